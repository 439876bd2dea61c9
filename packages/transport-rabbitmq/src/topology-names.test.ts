import { describe, expect, it } from 'vitest';
import { mainQueueArguments, retryQueueArguments, type TopologySettings } from './topology';
import { expirationFor, TopologyNames, tierFor } from './topology-names';

describe('TopologyNames', () => {
  const names = new TopologyNames('edakit.events', 'edakit.events.unroutable', 'staging.');

  it('names every queue of a group', () => {
    expect(names.queue('billing')).toBe('staging.billing');
    expect(names.retry('billing', 1000)).toBe('staging.billing.retry.1000ms');
    expect(names.deadLetter('billing')).toBe('staging.billing.dlq');
    expect(names.unroutableQueue).toBe('edakit.events.unroutable');
    expect(names.queuesOf('billing', [100, 1000])).toEqual([
      'staging.billing',
      'staging.billing.retry.100ms',
      'staging.billing.retry.1000ms',
      'staging.billing.dlq',
    ]);
  });
});

describe('tierFor', () => {
  const tiers = [1_000, 10_000, 60_000];
  it('picks the smallest tier that holds the delay, or the largest', () => {
    expect(tierFor(0, tiers)).toBe(1_000);
    expect(tierFor(1_000, tiers)).toBe(1_000);
    expect(tierFor(1_001, tiers)).toBe(10_000);
    expect(tierFor(59_999, tiers)).toBe(60_000);
    expect(tierFor(3_600_000, tiers)).toBe(60_000);
  });
});

describe('expirationFor', () => {
  it('expires a shorter delay on time inside its tier, never past the tier', () => {
    expect(expirationFor(250, 1_000)).toBe('250');
    expect(expirationFor(249.2, 1_000)).toBe('250');
    expect(expirationFor(1_000, 1_000)).toBeUndefined();
    expect(expirationFor(5_000, 1_000)).toBeUndefined();
    expect(expirationFor(-5, 1_000)).toBe('0');
  });
});

describe('queue arguments', () => {
  const settings = (overrides: Partial<TopologySettings> = {}): TopologySettings => ({
    names: new TopologyNames('ex', 'ex.unroutable'),
    queueType: 'quorum',
    deliveryLimit: undefined,
    singleActiveConsumer: false,
    retryTiersMs: [100],
    unroutable: 'alternate',
    ...overrides,
  });

  it('never declares a quorum queue without a dead-letter target', () => {
    expect(mainQueueArguments(settings(), 'g')).toEqual({
      'x-queue-type': 'quorum',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': 'g.dlq',
    });
    expect(retryQueueArguments(settings(), 'g', 100)).toMatchObject({
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': '',
    });
  });

  it('sends a retry tier back to the group queue only, through the default exchange', () => {
    expect(retryQueueArguments(settings({ queueType: 'classic' }), 'g', 250)).toEqual({
      'x-queue-type': 'classic',
      'x-message-ttl': 250,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': 'g',
    });
  });

  it('adds the delivery limit and single active consumer when asked', () => {
    expect(
      mainQueueArguments(settings({ deliveryLimit: 5, singleActiveConsumer: true }), 'g'),
    ).toMatchObject({ 'x-delivery-limit': 5, 'x-single-active-consumer': true });
  });
});
