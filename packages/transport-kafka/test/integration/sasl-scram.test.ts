import { randomUUID } from 'node:crypto';
import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaTransport, type KafkaTransportOptions } from '../../src/index';
import {
  capturingLogger,
  errorMessages,
  namespace,
  startHealthy,
  stopAll,
} from '../support/integration';
import { saslBroker } from '../support/kafka-broker';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

const PASSWORD = 'edakit-secret';

function saslTransport(password: string, logger: KafkaTransportOptions['logger']) {
  return new KafkaTransport({
    client: {
      clientId: `edakit-sasl-${randomUUID().slice(0, 8)}`,
      brokers: [saslBroker],
      sasl: { mechanism: 'scram-sha-512', username: 'edakit', password },
      // Everything kafkajs has to say, so a leak at any level is caught.
      logLevel: logLevel.DEBUG,
      retry: { retries: 2, initialRetryTime: 100 },
      connectionTimeout: 3_000,
    },
    topics: { partitions: 1, replicationFactor: 1 },
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    logger,
  });
}

/** Everything a log entry carries, as text (fields included). */
function logText(logger: ReturnType<typeof capturingLogger>): string {
  return logger.entries
    .map((entry) => {
      const seen = new WeakSet<object>();
      const fields = JSON.stringify(entry.fields, (_, value: unknown) => {
        if (value instanceof Error) return { message: value.message, stack: value.stack };
        if (typeof value === 'object' && value !== null) {
          if (seen.has(value)) return '[circular]';
          seen.add(value);
        }
        return value;
      });
      return `${entry.level} ${entry.message} ${fields}`;
    })
    .join('\n');
}

describe('SASL/SCRAM-SHA-512 (127.0.0.1:9094)', () => {
  it('publishes and consumes with the right credentials', async () => {
    const ns = namespace('sasl');
    const contract = conformanceContract(ns);
    const logger = capturingLogger();
    const received: number[] = [];
    const bus = createBus({
      transport: saslTransport(PASSWORD, logger),
      source: '/it/sasl',
      logger,
    });
    buses.push(bus);
    bus.subscribe({
      group: `${ns}-g`,
      startFrom: 'earliest',
      handlers: [on(contract, (event) => void received.push(event.data.seq))],
    });
    await startHealthy(bus);
    const sent = await bus.publishBatch(
      [1, 2, 3].map((seq) => bus.prepare(contract, { key: 'k', seq })),
    );
    expect(sent).toHaveLength(3);
    await waitFor(() => received.length === 3, { timeoutMs: 30_000, description: '3 events' });
    expect(received).toEqual([1, 2, 3]);
    const health = await bus.health();
    expect(health.transport.status).toBe('up');
    // A working connection logs nothing secret either.
    expect(logText(logger)).not.toContain(PASSWORD);
  });

  it('rejects a wrong password with "authentication failed", leaking no password', async () => {
    const ns = namespace('saslbad');
    const contract = conformanceContract(ns);
    const wrong = `wrong-${randomUUID()}`;
    const logger = capturingLogger();
    const transport = saslTransport(wrong, logger);
    const bus = createBus({ transport, source: '/it/sasl', logger });
    buses.push(bus);

    const error = await bus.publish(contract, { key: 'k', seq: 1 }).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(Error);
    const messages = errorMessages(error);
    console.log(`wrong password: ${(error as Error).name}: ${messages.join(' <- ')}`);
    expect(messages.join(' | ')).toMatch(/authentication failed/i);
    for (const text of [...messages, String((error as Error).stack)]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(PASSWORD);
    }
    // connect() alone says the same.
    const connectError = await transport.connect().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(errorMessages(connectError).join(' | ')).toMatch(/authentication failed/i);

    // The failure was logged (through the edakit logger) without the secret.
    expect(logger.entries.length).toBeGreaterThan(0);
    const logged = logText(logger);
    expect(logged).toMatch(/authentication failed/i);
    expect(logged).not.toContain(wrong);
    expect(logged).not.toContain(PASSWORD);
    // Nor anywhere in the error objects' own fields (kafkajs errors carry extras).
    const dump = JSON.stringify(error, Object.getOwnPropertyNames(error));
    expect(dump).not.toContain(wrong);
  });
});
