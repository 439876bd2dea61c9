import { createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import type { ConsumeMessage } from 'amqplib';
import { afterEach, expect, it } from 'vitest';
import { namespace, rawConnection, testTransport } from '../support/integration';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * What another AMQP client sees of an edakit event (docs/rabbitmq.md): the
 * CloudEvents attributes as `cloudEvents_*` headers, datacontenttype as the
 * content type, and message id, type, timestamp and persistence as properties.
 */
it('maps the envelope onto AMQP properties and cloudEvents_ headers', async () => {
  const exchange = `${namespace('map')}.events`;
  const contract = conformanceContract(namespace('map'));
  const raw = await rawConnection();
  cleanups.push(() => raw.close());
  const channel = await raw.createChannel();
  const queue = namespace('reader');
  await channel.assertExchange(exchange, 'topic', {
    durable: true,
    arguments: { 'alternate-exchange': `${exchange}.unroutable` },
  });
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, exchange, contract.type);
  const received: ConsumeMessage[] = [];
  await channel.consume(queue, (message) => {
    if (message) received.push(message);
  });

  const transport = testTransport({ exchange });
  cleanups.push(() => transport.close());
  const bus = createBus({ transport, source: '/it/mapping', closeTransportOnStop: false });
  const sent = await bus.publish(
    contract,
    { key: 'k-1', seq: 7 },
    {
      subject: 'sub',
      sequence: 3,
      time: '2026-01-02T03:04:05.678Z',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    },
  );
  const [message] = await waitFor(() => (received.length > 0 ? received : undefined), {
    description: 'the event at the raw consumer',
  });
  expect(message?.fields.routingKey).toBe(contract.type);
  expect(message?.properties).toMatchObject({
    messageId: sent.id,
    type: contract.type,
    contentType: 'application/json',
    deliveryMode: 2,
    timestamp: Math.floor(Date.parse('2026-01-02T03:04:05.678Z') / 1000),
  });
  expect(message?.properties.headers).toEqual({
    cloudEvents_specversion: '1.0',
    cloudEvents_id: sent.id,
    cloudEvents_source: '/it/mapping',
    cloudEvents_type: contract.type,
    cloudEvents_dataversion: '1',
    cloudEvents_correlationid: sent.id,
    cloudEvents_time: '2026-01-02T03:04:05.678Z',
    cloudEvents_subject: 'sub',
    cloudEvents_partitionkey: 'k-1',
    cloudEvents_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    cloudEvents_sequence: '0000000000000003',
  });
  expect(JSON.parse(message?.content.toString() ?? '')).toEqual({ key: 'k-1', seq: 7 });

  // And an edakit consumer reads what the raw client wrote the same way.
  const group = namespace('g');
  const seen: unknown[] = [];
  bus.subscribe({ group, handlers: [on(contract, (event) => void seen.push(event))] });
  await bus.start();
  channel.publish(
    exchange,
    contract.type,
    message?.content ?? Buffer.alloc(0),
    message?.properties,
  );
  await waitFor(() => seen.length === 1 || undefined, { description: 'the raw copy at edakit' });
  expect(seen[0]).toEqual(sent);
  await bus.stop();
});
