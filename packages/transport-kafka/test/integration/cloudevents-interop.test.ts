import { type Bus, type ConsumedEvent, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { CloudEvent, Kafka as CloudEventsKafka, type KafkaMessage } from 'cloudevents';
import type { IHeaders, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  namespace,
  rawKafka,
  rawProducer,
  readTopic,
  startHealthy,
  stopAll,
} from '../support/integration';
import { testTransport } from '../support/kafka-factory';

/**
 * edakit's wire format is the CloudEvents Kafka binding: the official SDK
 * (cloudevents on npm) reads what edakit writes, and edakit reads what the SDK
 * writes, in binary and structured mode.
 */
const ns = namespace('ce');
const fromEdakit = conformanceContract(`${ns}out`);
const fromSdk = conformanceContract(`${ns}in`);
const kafka = rawKafka();
const buses: Bus[] = [];
const received: ConsumedEvent<typeof fromSdk>[] = [];
let bus: Bus;
let producer: Producer;

beforeAll(async () => {
  bus = createBus({ transport: testTransport(), source: '/it/cloudevents' });
  buses.push(bus);
  bus.subscribe({
    group: `${ns}-g`,
    startFrom: 'earliest',
    handlers: [on(fromSdk, (event) => void received.push(event))],
  });
  await startHealthy(bus);
  producer = await rawProducer(kafka);
});

afterAll(async () => {
  await producer?.disconnect();
  await stopAll(buses);
});

/** kafkajs headers as the SDK's Message wants them (strings). */
function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) result[name] = value.toString();
  }
  return result;
}

/** An SDK Kafka message as kafkajs writes it: defined string headers, bytes value. */
function toKafkajs(message: KafkaMessage<unknown>) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers[name] = String(value);
  }
  const value =
    typeof message.value === 'string' || Buffer.isBuffer(message.value)
      ? message.value
      : JSON.stringify(message.value);
  return { key: message.key, value, headers, timestamp: message.timestamp };
}

describe('CloudEvents SDK interop (Kafka binding)', () => {
  it('an event edakit publishes is parsed by the SDK with every attribute and extension', async () => {
    const sent = await bus.publish(
      fromEdakit,
      { key: 'order-7', seq: 7, note: 'naïve ✓' },
      { correlationId: 'corr-42', causationId: 'cause-41', subject: 'orders/7' },
    );
    const [record] = await readTopic(kafka, fromEdakit.channel, 1);
    expect(record).toBeDefined();
    const message: KafkaMessage<Buffer | null | undefined> = {
      headers: stringHeaders(record?.rawHeaders),
      key: record?.key?.toString() ?? '',
      value: record?.value,
      body: record?.value,
    };
    const event = CloudEventsKafka.toEvent(message) as CloudEvent<{
      key: string;
      seq: number;
      note?: string;
    }>;

    expect(Array.isArray(event)).toBe(false);
    expect(event.validate()).toBe(true);
    expect(event.specversion).toBe('1.0');
    expect(event.id).toBe(sent.id);
    expect(event.type).toBe(fromEdakit.type);
    expect(event.source).toBe('/it/cloudevents');
    expect(event.time).toBe(sent.time);
    expect(event.subject).toBe('orders/7');
    expect(event.datacontenttype).toBe('application/json');
    expect(event.data).toEqual({ key: 'order-7', seq: 7, note: 'naïve ✓' });
    // edakit's extensions, as CloudEvents extension attributes.
    expect(event.dataversion).toBe('1');
    expect(event.correlationid).toBe('corr-42');
    expect(event.causationid).toBe('cause-41');
    expect(event.partitionkey).toBe('order-7');
  });

  it('a CloudEvent the SDK serialises in binary mode is handled by edakit', async () => {
    const event = new CloudEvent({
      type: fromSdk.type,
      source: '/sdk/binary',
      datacontenttype: 'application/json',
      data: { key: 'sdk-key', seq: 1, note: 'from the SDK' },
      partitionkey: 'sdk-key',
      correlationid: 'sdk-corr',
      dataversion: '1',
    });
    const message = CloudEventsKafka.binary(event);
    await producer.send({ topic: fromSdk.channel, messages: [toKafkajs(message)], acks: -1 });

    const got = await waitFor(() => received.find((e) => e.id === event.id), {
      timeoutMs: 30_000,
      description: 'the SDK binary-mode event',
    });
    expect(got.type).toBe(fromSdk.type);
    expect(got.source).toBe('/sdk/binary');
    expect(got.time).toBe(event.time);
    expect(got.data).toEqual({ key: 'sdk-key', seq: 1, note: 'from the SDK' });
    expect(got.correlationid).toBe('sdk-corr');
    expect(got.partitionkey).toBe('sdk-key');
    expect(got.dataversion).toBe(1);
  });

  it('a CloudEvent the SDK serialises in structured mode is handled by edakit', async () => {
    const event = new CloudEvent({
      type: fromSdk.type,
      source: '/sdk/structured',
      datacontenttype: 'application/json',
      data: { key: 'sdk-key', seq: 2 },
      partitionkey: 'sdk-key',
    });
    const message = CloudEventsKafka.structured(event);
    await producer.send({ topic: fromSdk.channel, messages: [toKafkajs(message)], acks: -1 });

    const got = await waitFor(() => received.find((e) => e.id === event.id), {
      timeoutMs: 30_000,
      description: 'the SDK structured-mode event',
    });
    expect(got.type).toBe(fromSdk.type);
    expect(got.source).toBe('/sdk/structured');
    expect(got.data).toEqual({ key: 'sdk-key', seq: 2 });
    // No correlationid from the SDK: edakit uses the event's own id.
    expect(got.correlationid).toBe(event.id);
    expect(received.map((e) => e.source)).toEqual(['/sdk/binary', '/sdk/structured']);
  });
});
