import { randomUUID } from 'node:crypto';
import { KafkaTransport, type KafkaTransportOptions } from '../../src/index';
import { brokers } from './kafka-broker';

/** A transport on the test broker with timings suited to tests. */
export function testTransport(overrides: Partial<KafkaTransportOptions> = {}): KafkaTransport {
  return new KafkaTransport({
    client: {
      clientId: `edakit-test-${randomUUID().slice(0, 8)}`,
      brokers,
      retry: { retries: 8, initialRetryTime: 100 },
    },
    topics: { partitions: 3, replicationFactor: 1 },
    retryTiersMs: [100, 1_000, 10_000],
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    maxWaitTimeMs: 250,
    ...overrides,
  });
}
