import { randomUUID } from 'node:crypto';
import type { Bus, Logger } from '@edakit/core';
import { waitFor } from '@edakit/core/testing';
import { type ChannelModel, connect } from 'amqplib';
import { inject } from 'vitest';
import { RabbitMqTransport, type RabbitMqTransportOptions } from '../../src/index';
import { brokerUrl } from './rabbitmq-broker';

/** This run's vhost (see rabbitmq-global-setup.ts). */
export const vhost = (): string => inject('rabbitmqVhost');

export const testUrl = (): string => brokerUrl(vhost());

/** A transport on the test broker with timings suited to tests. */
export function testTransport(
  overrides: Partial<RabbitMqTransportOptions> = {},
): RabbitMqTransport {
  return new RabbitMqTransport({
    url: testUrl(),
    connectionName: 'edakit-test',
    retryTiersMs: [100, 1_000],
    publishTimeoutMs: 5_000,
    connectTimeoutMs: 10_000,
    reconnectDelayMs: 50,
    maxReconnectDelayMs: 1_000,
    heartbeatSeconds: 5,
    ...overrides,
  });
}

/** A raw amqplib connection (not edakit), as other producers and tools use. */
export async function rawConnection(url = testUrl()): Promise<ChannelModel> {
  const connection = await connect(url);
  connection.on('error', () => undefined);
  return connection;
}

/** A fresh, valid event-type / channel / group namespace: `<prefix><12 hex>`. */
export function namespace(prefix = 'it'): string {
  return `${prefix}${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the bus and waits until its consumers are consuming (health `up`). */
export async function startHealthy(bus: Bus, timeoutMs = 30_000): Promise<void> {
  await bus.start();
  await waitFor(async () => (await bus.health()).status === 'up', {
    timeoutMs,
    intervalMs: 50,
    description: 'the bus to report healthy',
  });
}

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

/** A Logger that keeps every entry, for assertions. */
export function capturingLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      entries.push({ level, fields, message });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Stops buses, ignoring errors (afterEach / afterAll). */
export async function stopAll(buses: Bus[], deadlineMs = 1_000): Promise<void> {
  await Promise.all(buses.splice(0).map((bus) => bus.stop({ deadlineMs }).catch(() => undefined)));
}

/**
 * Consumers per queue of this run's vhost, from the broker itself
 * (`list_consumers`: `list_queues` shows 0 for quorum queues on 3.10).
 */
export async function consumerCounts(
  rabbitmqctl: (...args: string[]) => Promise<string>,
): Promise<Map<string, number>> {
  const output = await rabbitmqctl(
    'list_consumers',
    '-p',
    vhost(),
    'queue_name',
    'consumer_tag',
    '--quiet',
    '--no-table-headers',
  );
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    const [name] = line.trim().split(/\s+/);
    if (name) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
