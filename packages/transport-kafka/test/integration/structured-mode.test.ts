import { type Bus, type ConsumedEvent, createBus, on, STRUCTURED_CONTENT_TYPE } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { type CloudEvent, Kafka as CloudEventsKafka, type KafkaMessage } from 'cloudevents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaTransport } from '../../src/index';
import { namespace, rawKafka, readTopic, startHealthy, stopAll } from '../support/integration';
import { testTransport } from '../support/kafka-factory';

/**
 * `contentMode: 'structured'` on the real broker: the record is one JSON
 * CloudEvent with a single header, the SDK reads it, a binary-mode consumer
 * handles it, and retry topics, the DLQ and redrive keep its bytes.
 */
const ns = namespace('structured');
// One contract (channel, topic) per test: a group reads its topic from the start.
const Event = conformanceContract(`${ns}a`);
const Failing = conformanceContract(`${ns}b`);
type Contract = typeof Event;
const kafka = rawKafka();
const buses: Bus[] = [];
let publisher: Bus;
let structured: KafkaTransport;

beforeAll(async () => {
  structured = testTransport({ contentMode: 'structured' });
  publisher = createBus({ transport: structured, source: '/it/structured' });
  buses.push(publisher);
  await publisher.start();
});

afterAll(async () => {
  await stopAll(buses);
});

/** A consumer bus on a binary-mode transport (the default): consumers read both modes. */
async function consumer(
  contract: Contract,
  group: string,
  handle: (event: ConsumedEvent<Contract>) => void,
) {
  const bus = createBus({ transport: testTransport(), source: '/it/structured-consumer' });
  buses.push(bus);
  bus.subscribe({
    group,
    startFrom: 'earliest',
    retry: { immediate: 0, delayed: [100] },
    handlers: [on(contract, handle)],
  });
  await startHealthy(bus);
  return bus;
}

describe('Kafka structured content mode', () => {
  it('writes one JSON CloudEvent per record that the SDK and a binary-mode consumer read alike', async () => {
    const handled: ConsumedEvent<typeof Event>[] = [];
    await consumer(Event, `${ns}-read`, (event) => void handled.push(event));
    const sent = await publisher.publish(
      Event,
      { key: 'k-1', seq: 1, note: 'naïve ✓' },
      { correlationId: 'corr-1', subject: 'orders/1' },
    );

    const [record] = await readTopic(kafka, Event.channel, 1);
    expect(record?.key?.toString()).toBe('k-1');
    expect(record?.headers).toEqual({ 'content-type': STRUCTURED_CONTENT_TYPE });
    const message: KafkaMessage<Buffer | null | undefined> = {
      headers: record?.headers ?? {},
      key: 'k-1',
      value: record?.value,
      body: record?.value,
    };
    const event = CloudEventsKafka.toEvent(message) as CloudEvent<{
      key: string;
      seq: number;
      note: string;
    }>;
    expect(event.validate()).toBe(true);
    expect(event).toMatchObject({
      id: sent.id,
      type: Event.type,
      source: '/it/structured',
      time: sent.time,
      subject: 'orders/1',
      data: { key: 'k-1', seq: 1, note: 'naïve ✓' },
      dataversion: '1',
      correlationid: 'corr-1',
      partitionkey: 'k-1',
    });

    await waitFor(() => handled.length === 1, {
      timeoutMs: 30_000,
      description: 'the structured event handled',
    });
    expect(handled[0]).toEqual(sent);
  });

  it('retries through a retry topic, dead-letters with the original bytes, and redrives', async () => {
    const group = `${ns}-fail`;
    const attempts: number[] = [];
    let healed = false;
    await consumer(Failing, group, (event) => {
      attempts.push(event.data.seq);
      if (!healed) throw new TypeError(`broken ${event.data.seq}`);
    });
    const prepared = publisher.prepare(Failing, { key: 'k-2', seq: 2 });
    await publisher.publishBatch([prepared]);

    const deadLetters = await waitFor(
      async () => {
        const found = await structured.listDeadLetters({ group, channel: Failing.channel });
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'the dead letter' },
    );
    // One attempt from the main topic, one from the 100 ms retry topic.
    expect(attempts).toEqual([2, 2]);
    expect(deadLetters).toHaveLength(1);
    const [deadLetter] = deadLetters;
    expect(deadLetter?.info).toMatchObject({ errorMessage: 'broken 2', attempts: 2, group });
    expect(deadLetter?.message.key).toBe('k-2');
    expect(deadLetter?.message.headers['content-type']).toBe(STRUCTURED_CONTENT_TYPE);
    expect(Buffer.from(deadLetter?.message.body ?? []).toString()).toBe(
      Buffer.from(prepared.outgoing.message.body).toString(),
    );

    healed = true;
    expect(await structured.redriveDeadLetters({ group, channel: Failing.channel })).toBe(1);
    await waitFor(() => attempts.length === 3, {
      timeoutMs: 30_000,
      description: 'the redriven event handled',
    });
    expect(attempts).toEqual([2, 2, 2]);
  });
});
