import { type Bus, createBus, ErrorCodes, FailureHeaders, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import type { Message, Producer } from 'kafkajs';
import { afterAll, afterEach, expect, it } from 'vitest';
import {
  namespace,
  rawKafka,
  rawProducer,
  readTopic,
  startHealthy,
  stopAll,
} from '../support/integration';
import { testTransport } from '../support/kafka-factory';

const buses: Bus[] = [];
const kafka = rawKafka();
let producer: Producer | undefined;

afterEach(() => stopAll(buses));
afterAll(async () => {
  await producer?.disconnect();
});

/**
 * Other producers write to an edakit topic. Every kind of bad input is
 * dead-lettered at once with its reason and its exact bytes, and the good events
 * behind it on the same key (same partition) are all handled, in order.
 */
it('dead-letters each kind of poison with its reason and original bytes, without blocking the key', async () => {
  const ns = namespace('poison');
  const contract = conformanceContract(ns);
  const topic = contract.channel;
  const key = 'one-key';
  const handled: number[] = [];
  const bus = createBus({
    transport: testTransport(),
    source: '/it/poison',
    maxMessageBytes: 64 * 1024,
    retry: { immediate: 0, delayed: [100] },
  });
  buses.push(bus);
  bus.subscribe({
    group: `${ns}-g`,
    startFrom: 'earliest',
    concurrency: 4,
    handlers: [on(contract, (event) => void handled.push(event.data.seq))],
  });
  await startHealthy(bus);

  // Good events are encoded by edakit (bus.prepare) and written by the raw producer,
  // so good and poison share one ordered stream on one partition.
  let seq = 0;
  const good = (): Message => {
    const { outgoing } = bus.prepare(contract, { key, seq: seq++ });
    return {
      key: outgoing.message.key ?? null,
      value: Buffer.from(outgoing.message.body),
      headers: { ...outgoing.message.headers },
    };
  };
  const headersOf = (message: Message) => ({ ...(message.headers as Record<string, string>) });
  const poison = (reason: string, build: (base: Message) => Message) => {
    const message = build(good());
    seq--; // the seq number of the template is reused by the next good event
    return { reason, message };
  };
  const poisons = [
    poison(ErrorCodes.DECODE_FAILED, (base) => ({
      ...base,
      value: Buffer.from('{"key": "one-key", seq: '),
    })),
    poison(ErrorCodes.VALIDATION_FAILED, (base) => ({
      ...base,
      value: Buffer.from(JSON.stringify({ key: 42, seq: 'not a number' })),
    })),
    poison(ErrorCodes.UNKNOWN_EVENT, (base) => ({
      ...base,
      headers: { ...headersOf(base), ce_type: `${ns}.nobody-knows-me` },
    })),
    poison(ErrorCodes.UNSUPPORTED_VERSION, (base) => ({
      ...base,
      headers: { ...headersOf(base), ce_dataversion: '99' },
    })),
    poison(ErrorCodes.PAYLOAD_TOO_LARGE, (base) => ({
      ...base,
      value: Buffer.from(JSON.stringify({ key, seq: 0, note: 'x'.repeat(100 * 1024) })),
    })),
    poison(ErrorCodes.MISSING_ATTRIBUTE, (base) => ({
      key: base.key ?? null,
      value: Buffer.from(JSON.stringify({ key, seq: 0 })),
    })),
  ];

  // good, poison, good, poison, ... good: 3 good events before, between and after.
  const stream: Message[] = [good(), good()];
  for (const { message } of poisons) stream.push(message, good(), good(), good());
  const goodCount = seq;
  producer = await rawProducer(kafka);
  await producer.send({ topic, messages: stream, acks: -1 });

  await waitFor(() => handled.length >= goodCount, {
    timeoutMs: 30_000,
    description: `${goodCount} good events`,
  });
  const deadLetters = await readTopic(kafka, `${topic}.dlq`, poisons.length, { settleMs: 500 });

  // Every good event, once, in publish order: nothing was blocked or reordered.
  expect(handled).toEqual(Array.from({ length: goodCount }, (_, index) => index));

  expect(deadLetters).toHaveLength(poisons.length);
  const partitions = new Set(deadLetters.map((record) => record.partition));
  expect(partitions.size).toBe(1);
  const byReason = new Map(
    deadLetters.map((record) => [record.headers[FailureHeaders.deadLetterReason], record]),
  );
  expect([...byReason.keys()].sort()).toEqual(poisons.map((p) => p.reason).sort());
  for (const { reason, message } of poisons) {
    const record = byReason.get(reason);
    expect(record, reason).toBeDefined();
    // The original bytes and key, untouched.
    expect(record?.value?.equals(message.value as Buffer), `${reason}: body bytes`).toBe(true);
    expect(record?.key?.toString(), `${reason}: key`).toBe(key);
    // Dead-lettered at once: no handler attempt, no retry.
    expect(record?.headers[FailureHeaders.attempts], reason).toBe('0');
    expect(record?.headers[FailureHeaders.retries], reason).toBe('0');
    expect(record?.headers[FailureHeaders.errorCode], reason).toBe(reason);
    expect(record?.headers[FailureHeaders.group], reason).toBe(`${ns}-g`);
    expect(record?.headers[FailureHeaders.origin], reason).toBe(topic);
    // The original headers travel with it (none for the header-less one).
    for (const [name, value] of Object.entries(
      (message.headers as Record<string, string> | undefined) ?? {},
    )) {
      expect(record?.headers[name], `${reason}: header ${name}`).toBe(value);
    }
  }
  const headerless = byReason.get(ErrorCodes.MISSING_ATTRIBUTE);
  expect(Object.keys(headerless?.headers ?? {}).some((name) => name.startsWith('ce_'))).toBe(false);
});
