import { type Bus, createBus, ErrorCodes, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { DEFAULT_EXCHANGE } from '../../src/index';
import {
  namespace,
  rawConnection,
  startHealthy,
  stopAll,
  testTransport,
} from '../support/integration';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

/**
 * Other producers write straight to the exchange with plain amqplib: bytes that
 * are not JSON, data that breaks the schema, a type nobody knows, no headers at
 * all, a body over the limit. Each lands in the group's DLQ with its reason;
 * the good events around them (same key) keep flowing, including one whose
 * attributes arrive as AMQP numbers and byte arrays rather than strings.
 */
it('dead-letters poison published by raw amqplib and keeps the rest flowing', async () => {
  const ns = namespace('poison');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const handled: number[] = [];
  const transport = testTransport();
  const bus = createBus({ transport, source: '/it/poison', maxMessageBytes: 64 * 1024 });
  buses.push(bus);
  bus.subscribe({
    group,
    handlers: [on(contract, (event) => void handled.push(event.data.seq))],
  });
  await startHealthy(bus);

  const connection = await rawConnection();
  const channel = await connection.createConfirmChannel();
  const attributes = (id: string, extra: Record<string, unknown> = {}) => ({
    cloudEvents_specversion: '1.0',
    cloudEvents_id: id,
    cloudEvents_source: '/raw-producer',
    cloudEvents_type: contract.type,
    cloudEvents_partitionkey: 'same-key',
    ...extra,
  });
  const send = (content: string | Buffer, options: object) =>
    new Promise<void>((resolve, reject) =>
      channel.publish(
        DEFAULT_EXCHANGE,
        contract.type,
        Buffer.from(content),
        { persistent: true, ...options },
        (error: unknown) => (error ? reject(error) : resolve()),
      ),
    );
  const json = (seq: number, extra: object = {}) =>
    JSON.stringify({ key: 'same-key', seq, ...extra });
  try {
    await bus.publish(contract, { key: 'same-key', seq: 1 });
    await send('{not json', { headers: attributes('p-json'), contentType: 'application/json' });
    await send(JSON.stringify({ key: 'same-key', seq: 'NaN' }), {
      headers: attributes('p-schema'),
    });
    await send(json(1), {
      headers: attributes('p-type', { cloudEvents_type: `${ns}.unheard.of` }),
    });
    await send(json(1), {});
    await send(json(1, { note: 'x'.repeat(70 * 1024) }), { headers: attributes('p-size') });
    // Valid, with non-string field values: a number for dataversion, bytes for the id.
    await send(json(2), {
      headers: attributes('ignored', {
        cloudEvents_id: Buffer.from('good-bytes-id'),
        cloudEvents_dataversion: 1,
      }),
      contentType: 'application/json',
    });
    await bus.publish(contract, { key: 'same-key', seq: 3 });
  } finally {
    await connection.close();
  }

  await waitFor(() => handled.length === 3 || undefined, {
    timeoutMs: 30_000,
    description: 'the three good events',
  });
  expect(handled).toEqual([1, 2, 3]);
  const deadLetters = await waitFor(
    async () => {
      const list = await transport.listDeadLetters({ group });
      return list.length >= 5 ? list : undefined;
    },
    { timeoutMs: 30_000, description: 'five dead letters' },
  );
  expect(deadLetters.map((deadLetter) => deadLetter.info.reason).sort()).toEqual(
    [
      ErrorCodes.DECODE_FAILED,
      ErrorCodes.VALIDATION_FAILED,
      ErrorCodes.UNKNOWN_EVENT,
      ErrorCodes.MISSING_ATTRIBUTE,
      ErrorCodes.PAYLOAD_TOO_LARGE,
    ].sort(),
  );
  for (const deadLetter of deadLetters) {
    expect(deadLetter.info).toMatchObject({ attempts: 0, group, origin: group });
    expect(deadLetter.info.errorMessage).not.toBe('');
    // Broker headers never travel into edakit's copy.
    expect(Object.keys(deadLetter.message.headers).filter((name) => name.startsWith('x-'))).toEqual(
      [],
    );
  }
  // Listing did not consume them.
  expect(await transport.listDeadLetters({ group })).toHaveLength(5);
});
