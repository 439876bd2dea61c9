import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import { on } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { waitFor } from '../testing/wait-for';
import type { TransportHealth } from '../transport/transport';
import { healthCheck, worst } from './health-check';

const TaskQueued = defineEvent({
  type: 'task.queued',
  schema: z.object({ taskId: z.string() }),
  description: 'queued',
  partitionKey: (task) => task.taskId,
});

/** A memory transport whose health says what the test wants. */
function reporting(health: TransportHealth): InMemoryTransport {
  const transport = new InMemoryTransport();
  transport.health = async () => health;
  return transport;
}

describe('healthCheck', () => {
  it('is up, live and ready for a started bus with a running consumer', async () => {
    const bus = createBus({ transport: new InMemoryTransport(), source: '/services/tasks' });
    bus.subscribe({ group: 'workers', handlers: [on(TaskQueued, () => undefined)] });
    await bus.start();
    const report = await healthCheck({ buses: [bus], thresholds: { maxQueueDepth: 10 } });
    expect(report).toMatchObject({ status: 'up', live: true, ready: true });
    expect(report.checks.map((check) => check.name)).toEqual([
      'bus /services/tasks',
      'transport memory',
      'consumer workers',
      'queue workers',
    ]);
    expect(report.checks[3]).toMatchObject({ observed: 0, threshold: 10, status: 'up' });
    await bus.stop();
  });

  it('lists a transport shared by several buses, and each of its consumers, once, at its worst', async () => {
    const transport = new InMemoryTransport();
    const crashed = reporting({
      status: 'up',
      details: {},
      consumers: [
        { group: 'workers', running: true },
        { group: 'auditors', running: false, lastError: 'boom' },
      ],
    });
    const first = createBus({ transport, source: '/services/a', closeTransportOnStop: false });
    const second = createBus({ transport, source: '/services/b', closeTransportOnStop: false });
    first.subscribe({ group: 'workers', handlers: [on(TaskQueued, () => undefined)] });
    second.subscribe({ group: 'auditors', handlers: [on(TaskQueued, () => undefined)] });
    await first.start();
    await second.start();
    const report = await healthCheck({ buses: [first, second], transports: [transport, crashed] });
    expect(report.checks.map((check) => check.name)).toEqual([
      'bus /services/a',
      'transport memory',
      'consumer workers',
      'consumer auditors',
      'queue workers',
      'queue auditors',
      'bus /services/b',
    ]);
    expect(report.checks.find((c) => c.name === 'consumer auditors')).toMatchObject({
      status: 'down',
      live: false,
    });
    await first.stop();
    await second.stop();
    await transport.close();
  });

  it('is down and not ready, but live, before the bus starts and after it stops', async () => {
    const bus = createBus({ transport: new InMemoryTransport(), source: '/services/tasks' });
    const before = await healthCheck({ buses: [bus] });
    expect(before).toMatchObject({ status: 'down', ready: false, live: true });
    expect(before.checks[0]).toMatchObject({ status: 'down', message: 'the bus is idle' });
    await bus.start();
    await bus.stop();
    const after = await healthCheck({ buses: [bus] });
    expect(after).toMatchObject({ status: 'down', ready: false, live: true });
    expect(after.checks.find((check) => check.name === 'transport memory')?.status).toBe('down');
  });

  it('turns degraded when a queue holds more than maxQueueDepth, and up again once drained', async () => {
    const bus = createBus({ transport: new InMemoryTransport(), source: '/services/tasks' });
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handled = 0;
    bus.subscribe({
      group: 'workers',
      concurrency: 1,
      handlers: [
        on(TaskQueued, async () => {
          await gate;
          handled++;
        }),
      ],
    });
    await bus.start();
    await bus.publishBatch(
      Array.from({ length: 6 }, () => bus.prepare(TaskQueued, { taskId: 'one-key' })),
    );
    const options = { buses: [bus], thresholds: { maxQueueDepth: 3 } };
    const degraded = await healthCheck(options);
    expect(degraded).toMatchObject({ status: 'degraded', ready: true, live: true });
    expect(degraded.checks.find((check) => check.name === 'queue workers')).toMatchObject({
      status: 'degraded',
      observed: 5,
      threshold: 3,
      message: '5 is over 3',
    });
    release();
    await waitFor(() => handled === 6);
    expect((await healthCheck(options)).status).toBe('up');
    await bus.stop();
  });

  it('sums Kafka partition lag per group over main topics only, against maxLag', async () => {
    const transport = reporting({
      status: 'up',
      details: {},
      consumers: [{ group: 'workers', running: true }],
      backlog: [
        {
          kind: 'partition',
          group: 'workers',
          name: 'task',
          partition: 0,
          messages: 60,
          role: 'work',
        },
        {
          kind: 'partition',
          group: 'workers',
          name: 'task',
          partition: 1,
          messages: 50,
          role: 'work',
        },
        {
          kind: 'partition',
          group: 'workers',
          name: 'task.retry.workers.1000ms',
          partition: 0,
          messages: 900,
          role: 'retry',
        },
      ],
    });
    const report = await healthCheck({ transports: [transport], thresholds: { maxLag: 100 } });
    expect(report.status).toBe('degraded');
    expect(report.checks.find((check) => check.name === 'lag workers')).toMatchObject({
      status: 'degraded',
      observed: 110,
      threshold: 100,
    });
    const under = await healthCheck({ transports: [transport], thresholds: { maxLag: 110 } });
    expect(under.status).toBe('up');
  });

  it('reports a crashed consumer of a reachable broker as down and not live', async () => {
    const transport = reporting({
      status: 'degraded',
      details: {},
      consumers: [{ group: 'workers', running: false, lastError: 'The group is rebalancing' }],
    });
    const report = await healthCheck({ transports: [transport] });
    expect(report).toMatchObject({ status: 'down', ready: false, live: false });
    expect(report.checks.find((check) => check.name === 'consumer workers')).toMatchObject({
      status: 'down',
      live: false,
      message: 'The group is rebalancing',
    });
  });

  it('keeps a consumer whose broker is unreachable live: a restart would not help', async () => {
    const transport = reporting({
      status: 'down',
      details: { error: 'connect ECONNREFUSED 127.0.0.1:9092' },
      consumers: [{ group: 'workers', running: false }],
    });
    const report = await healthCheck({ transports: [transport] });
    expect(report).toMatchObject({ status: 'down', ready: false, live: true });
    expect(report.checks[0]).toMatchObject({
      name: 'transport memory',
      message: 'connect ECONNREFUSED 127.0.0.1:9092',
    });
  });

  it('reports a subscription the transport does not know (failed to start) as down', async () => {
    const transport = new InMemoryTransport();
    const subscribe = transport.subscribe.bind(transport);
    const bus = createBus({ transport, source: '/services/tasks' });
    await bus.start();
    transport.subscribe = async () => {
      throw new Error('no permission on the topic');
    };
    const subscription = bus.subscribe({
      group: 'late',
      handlers: [on(TaskQueued, () => undefined)],
    });
    await subscription.start().catch(() => undefined);
    const report = await healthCheck({ buses: [bus] });
    expect(report.checks.find((check) => check.name === 'consumer late')).toMatchObject({
      status: 'down',
      live: false,
    });
    transport.subscribe = subscribe;
    await bus.stop();
  });

  it('turns degraded when the oldest outbox row is older than maxOutboxAgeMs', async () => {
    let oldest = 500;
    const outbox = { stats: async () => ({ pending: 4, oldestPendingAgeMs: oldest, dead: 0 }) };
    const options = { outboxes: { orders: outbox }, thresholds: { maxOutboxAgeMs: 1000 } };
    const fine = await healthCheck(options);
    expect(fine.status).toBe('up');
    expect(fine.checks[0]).toMatchObject({
      name: 'outbox orders',
      observed: 500,
      message: '4 pending, oldest 500 ms, 0 dead',
    });
    oldest = 1500;
    const late = await healthCheck(options);
    expect(late).toMatchObject({ status: 'degraded', ready: true, live: true });
    expect(late.checks[0]).toMatchObject({ status: 'degraded', observed: 1500, threshold: 1000 });
  });

  it('reports a source that fails or does not answer in time as down, never rejecting', async () => {
    const hung = createBus({ transport: new InMemoryTransport(), source: '/services/hung' });
    hung.health = () => new Promise(() => undefined);
    const broken = new InMemoryTransport();
    broken.health = async () => {
      throw new Error('admin client closed');
    };
    const report = await healthCheck({
      buses: [hung],
      transports: [broken],
      outboxes: {
        orders: {
          stats: async () => {
            throw new Error('database unreachable');
          },
        },
      },
      timeoutMs: 30,
    });
    expect(report).toMatchObject({ status: 'down', ready: false, live: true });
    expect(report.checks.map((check) => [check.name, check.message])).toEqual([
      ['bus /services/hung', 'bus /services/hung did not answer within 30 ms'],
      ['transport memory', 'admin client closed'],
      ['outbox orders', 'database unreachable'],
    ]);
  });

  it('is up with nothing to check', async () => {
    expect(await healthCheck({})).toEqual({ status: 'up', live: true, ready: true, checks: [] });
  });

  it('orders statuses down > degraded > up', () => {
    expect(worst([])).toBe('up');
    expect(worst(['up', 'degraded', 'up'])).toBe('degraded');
    expect(worst(['degraded', 'down', 'up'])).toBe('down');
  });
});
