import { type ChannelModel, connect } from 'amqplib';
import { inject } from 'vitest';
import { RabbitMqTransport, type RabbitMqTransportOptions } from '../../src/index';
import { brokerUrl } from './rabbitmq-broker';

export {
  capturingLogger,
  type LogEntry,
  namespace,
  sleep,
  startHealthy,
  stopAll,
} from '../../../../test-support/bus';

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
