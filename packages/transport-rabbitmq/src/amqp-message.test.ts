import { encodeEnvelope, parseWireMessage } from '@edakit/core';
import type { Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  AMQP_HEADER_NAMING,
  defaultChannelOf,
  fromAmqp,
  headerValue,
  isBrokerHeader,
  TransportHeaders,
  toAmqp,
} from './amqp-message';

const envelope = {
  specversion: '1.0' as const,
  id: '0190d2a4-3c1e-7cc0-8a5b-1234567890ab',
  source: '/services/orders',
  type: 'order.placed',
  time: '2026-01-02T03:04:05.678Z',
  datacontenttype: 'application/json',
  dataversion: 1,
  correlationid: 'corr-1',
  partitionkey: 'o-1',
  data: { orderId: 'o-1' },
};

/** What amqplib hands a consumer for what `toAmqp` produced. */
function delivered(out: ReturnType<typeof toAmqp>, routingKey = 'order.placed'): Message {
  return {
    content: out.content,
    fields: { deliveryTag: 1, redelivered: false, exchange: 'edakit.events', routingKey },
    properties: {
      contentType: out.properties.contentType,
      contentEncoding: undefined,
      headers: out.properties.headers,
      deliveryMode: 2,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: out.properties.messageId,
      timestamp: out.properties.timestamp,
      type: out.properties.type,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
    },
  };
}

describe('toAmqp', () => {
  const wire = encodeEnvelope(envelope, { naming: AMQP_HEADER_NAMING });

  it('sets the AMQP properties from the attributes and moves content-type to the property', () => {
    const out = toAmqp(wire, 'order', 'order.placed');
    expect(out.properties).toMatchObject({
      persistent: true,
      messageId: envelope.id,
      type: 'order.placed',
      contentType: 'application/json',
      timestamp: Math.floor(Date.parse(envelope.time) / 1000),
    });
    expect(out.properties.headers['content-type']).toBeUndefined();
    expect(out.properties.headers.cloudEvents_id).toBe(envelope.id);
    expect(out.properties.headers.cloudEvents_partitionkey).toBe('o-1');
    // Channel = first segment of the type and key = partitionkey: no transport headers.
    expect(out.properties.headers[TransportHeaders.channel]).toBeUndefined();
    expect(out.properties.headers[TransportHeaders.key]).toBeUndefined();
    expect(out.content.toString()).toBe(JSON.stringify(envelope.data));
  });

  it('takes each message its own timestamp, and now when the time does not parse', () => {
    const at = (time: string) =>
      toAmqp(
        { ...wire, headers: { ...wire.headers, cloudEvents_time: time } },
        'order',
        'order.placed',
      ).properties.timestamp;
    expect(at('2026-01-02T03:04:05.678Z')).toBe(
      Math.floor(Date.parse('2026-01-02T03:04:05.678Z') / 1000),
    );
    expect(at('2026-01-02T03:04:05.678Z')).toBe(
      Math.floor(Date.parse('2026-01-02T03:04:05.678Z') / 1000),
    );
    expect(at('2027-05-06T07:08:09.000Z')).toBe(
      Math.floor(Date.parse('2027-05-06T07:08:09.000Z') / 1000),
    );
    const before = Math.floor(Date.now() / 1000);
    expect(at('not a time')).toBeGreaterThanOrEqual(before);
    expect(at('2026-01-02T03:04:05.678Z')).toBe(
      Math.floor(Date.parse('2026-01-02T03:04:05.678Z') / 1000),
    );
  });

  it("names the channel only when it is not the type's first segment", () => {
    const channelOf = (channel: string, type: string) =>
      toAmqp({ ...wire, headers: { ...wire.headers, cloudEvents_type: type } }, channel, type)
        .properties.headers[TransportHeaders.channel];
    expect(channelOf('order', 'order.placed')).toBeUndefined();
    expect(channelOf('orders', 'order.placed')).toBe('orders');
    expect(channelOf('ord', 'order.placed')).toBe('ord');
    expect(channelOf('order', 'order')).toBeUndefined();
    expect(channelOf('orde', 'order')).toBe('orde');
  });

  it('writes the channel and key only when they cannot be derived', () => {
    const out = toAmqp({ ...wire, key: 'other-key' }, 'orders-v2', 'order.placed');
    expect(out.properties.headers[TransportHeaders.channel]).toBe('orders-v2');
    expect(out.properties.headers[TransportHeaders.key]).toBe('other-key');
  });

  it('gives a message without an id a messageId (or keeps the one it had)', () => {
    const bare = { headers: {}, body: Buffer.from('x') };
    expect(toAmqp(bare, 'c', 'c.t').properties.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(toAmqp(bare, 'c', 'c.t', AMQP_HEADER_NAMING, 'kept').properties.messageId).toBe('kept');
  });

  it('round-trips through fromAmqp into what the codec decodes', () => {
    const incoming = fromAmqp(delivered(toAmqp(wire, 'order', 'order.placed')));
    expect(incoming.message.headers).toEqual(wire.headers);
    expect(incoming.message.key).toBe('o-1');
    expect(incoming.type).toBe('order.placed');
    expect(incoming.channel).toBeUndefined();
    const raw = parseWireMessage(incoming.message, { naming: AMQP_HEADER_NAMING });
    expect(raw).toMatchObject({ id: envelope.id, type: envelope.type, partitionkey: 'o-1' });
  });
});

describe('fromAmqp', () => {
  const base = delivered(toAmqp({ headers: {}, body: Buffer.from('{}') }, 'c', 'c.t'), 'c.t');

  it('turns every AMQP field value into a string and drops broker and transport headers', () => {
    const message: Message = {
      ...base,
      properties: {
        ...base.properties,
        headers: {
          cloudEvents_id: Buffer.from('id-from-bytes'),
          cloudEvents_sequence: 42,
          flag: true,
          big: 2n ** 60n,
          when: { '!': 'timestamp', value: 1_700_000_000 },
          price: { '!': 'decimal', value: { places: 2, digits: 1999 } },
          list: ['a', 1],
          nothing: null,
          'x-death': [
            {
              count: 3,
              reason: 'expired',
              queue: 'q.retry',
              time: { '!': 'timestamp', value: 1 },
              exchange: '',
              'routing-keys': ['q.retry'],
            },
          ],
          'x-first-death-reason': 'expired',
          [TransportHeaders.channel]: 'orders',
          [TransportHeaders.key]: Buffer.from('k-9'),
          [TransportHeaders.deadLetterId]: 'dl-1',
        },
      },
    };
    const incoming = fromAmqp(message);
    expect(incoming.message.headers).toEqual({
      cloudEvents_id: 'id-from-bytes',
      cloudEvents_sequence: '42',
      flag: 'true',
      big: String(2n ** 60n),
      when: '1700000000',
      price: '19.99',
      list: '["a",1]',
    });
    expect(incoming.channel).toBe('orders');
    expect(incoming.message.key).toBe('k-9');
  });

  it('puts the contentType property under content-type when the header is absent', () => {
    const message: Message = {
      ...base,
      properties: { ...base.properties, contentType: 'application/json', headers: undefined },
    };
    expect(fromAmqp(message).message.headers).toEqual({ 'content-type': 'application/json' });
  });

  it('keeps a content-type header over the property', () => {
    const message: Message = {
      ...base,
      properties: {
        ...base.properties,
        contentType: 'text/plain',
        headers: { 'content-type': 'application/json' },
      },
    };
    expect(fromAmqp(message).message.headers['content-type']).toBe('application/json');
  });

  it('takes the type from the attribute, then the type property, then the routing key', () => {
    const withHeader: Message = {
      ...base,
      properties: { ...base.properties, type: 'b.prop', headers: { cloudEvents_type: 'a.head' } },
    };
    expect(fromAmqp(withHeader).type).toBe('a.head');
    const withProperty: Message = {
      ...base,
      properties: { ...base.properties, type: 'b.prop', headers: {} },
    };
    expect(fromAmqp(withProperty).type).toBe('b.prop');
    const bare: Message = {
      ...base,
      properties: { ...base.properties, type: undefined, headers: {} },
    };
    expect(fromAmqp(bare).type).toBe('c.t');
  });
});

describe('helpers', () => {
  it('recognises broker headers', () => {
    expect(isBrokerHeader('x-death')).toBe(true);
    expect(isBrokerHeader('X-Delivery-Count')).toBe(true);
    expect(isBrokerHeader('xylophone')).toBe(false);
    expect(isBrokerHeader('edakit-attempts')).toBe(false);
  });

  it('derives the default channel as core does', () => {
    expect(defaultChannelOf('order.placed')).toBe('order');
    expect(defaultChannelOf('single')).toBe('single');
  });

  it('stringifies header values', () => {
    expect(headerValue(undefined)).toBeUndefined();
    expect(headerValue(null)).toBeUndefined();
    expect(headerValue(1.5)).toBe('1.5');
    expect(headerValue(new Uint8Array([104, 105]))).toBe('hi');
    expect(headerValue({ a: 1 })).toBe('{"a":1}');
  });
});
