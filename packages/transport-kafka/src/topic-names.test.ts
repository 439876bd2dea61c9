import { describe, expect, it } from 'vitest';
import { TopicNames, tierFor } from './topic-names';

describe('TopicNames', () => {
  it('names main, retry and DLQ topics and maps them back to their channel', () => {
    const names = new TopicNames('staging.');
    expect(names.main('order')).toBe('staging.order');
    expect(names.retry('order', 'billing', 1000)).toBe('staging.order.retry.billing.1000ms');
    expect(names.deadLetter('order')).toBe('staging.order.dlq');
    for (const topic of [
      'staging.order',
      'staging.order.retry.billing.1000ms',
      'staging.order.dlq',
    ]) {
      expect(names.channelOf(topic)).toBe('order');
    }
  });
});

describe('tierFor', () => {
  it('picks the smallest tier that holds the delay, else the largest', () => {
    const tiers = [1000, 10_000, 60_000];
    expect(tierFor(0, tiers)).toBe(1000);
    expect(tierFor(1000, tiers)).toBe(1000);
    expect(tierFor(1001, tiers)).toBe(10_000);
    expect(tierFor(3_600_000, tiers)).toBe(60_000);
  });
});
