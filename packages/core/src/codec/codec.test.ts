import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../contract/define-event';
import { validate } from '../contract/validate';
import { createEnvelope } from '../envelope/create-envelope';
import { ErrorCodes } from '../errors/error-codes';
import { decodeEvent, parseWireMessage } from './decode';
import { encodeEnvelope } from './encode';
import type { WireMessage } from './wire-message';

const OrderCreated = defineEvent({
  type: 'order.created',
  schema: z.object({
    orderId: z.string(),
    lines: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })),
    meta: z.record(z.string(), z.unknown()).optional(),
  }),
  description: 'placed',
  partitionKey: (order) => order.orderId,
});
const resolve = (type: string) => (type === OrderCreated.type ? OrderCreated : undefined);
const data = { orderId: 'o-1', lines: [{ sku: 'A', quantity: 2 }] };

function encoded(options: Parameters<typeof createEnvelope>[3] = {}) {
  const envelope = createEnvelope(
    OrderCreated,
    validate(OrderCreated, data),
    '/services/orders',
    options,
  );
  return { envelope, message: encodeEnvelope(envelope) };
}

function withHeaders(message: WireMessage, patch: Record<string, string | undefined>): WireMessage {
  const headers: Record<string, string> = { ...message.headers };
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { ...message, headers };
}

function withBody(message: WireMessage, body: string | Uint8Array): WireMessage {
  return { ...message, body: typeof body === 'string' ? Buffer.from(body) : body };
}

describe('encode', () => {
  it('writes CloudEvents binary mode: ce_ headers, content-type, JSON body, key = partitionkey', () => {
    const { envelope, message } = encoded({
      subject: 's',
      causationId: 'c',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'a=b',
      sequence: 12,
    });
    expect(message.key).toBe('o-1');
    expect(message.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: envelope.id,
      ce_source: '/services/orders',
      ce_type: 'order.created',
      ce_time: envelope.time,
      ce_subject: 's',
      ce_dataversion: '1',
      ce_correlationid: envelope.id,
      ce_causationid: 'c',
      ce_partitionkey: 'o-1',
      ce_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      ce_tracestate: 'a=b',
      ce_sequence: '0000000000000012',
      'content-type': 'application/json',
    });
    expect(JSON.parse(Buffer.from(message.body).toString())).toEqual(data);
  });

  it('uses the transport header naming', () => {
    const envelope = createEnvelope(OrderCreated, data, '/s');
    const message = encodeEnvelope(envelope, {
      naming: { attributePrefix: 'cloudEvents_', contentType: 'content_type' },
    });
    expect(message.headers.cloudEvents_id).toBe(envelope.id);
    expect(message.headers.content_type).toBe('application/json');
    const back = decodeEvent(message, {
      resolve,
      naming: { attributePrefix: 'cloudEvents_', contentType: 'content_type' },
    });
    expect(back).toEqual(envelope);
  });

  it('refuses to encode a message over the size limit (EDAKIT_PAYLOAD_TOO_LARGE)', () => {
    const envelope = createEnvelope(
      OrderCreated,
      { ...data, meta: { blob: 'x'.repeat(2000) } },
      '/s',
    );
    expect(() => encodeEnvelope(envelope, { maxBytes: 1000 })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.PAYLOAD_TOO_LARGE,
        limit: 1000,
        context: expect.objectContaining({ eventType: 'order.created', eventId: envelope.id }),
      }),
    );
  });
});

describe('decode', () => {
  it('round-trips every attribute', () => {
    const { envelope, message } = encoded({ subject: 'sub', sequence: 3, correlationId: 'corr' });
    expect(decodeEvent(message, { resolve })).toEqual(envelope);
  });

  it('reads structured mode (application/cloudevents+json) from other producers', () => {
    const body = JSON.stringify({
      specversion: '1.0',
      id: 'ext-1',
      source: '/elsewhere',
      type: 'order.created',
      time: '2026-01-01T00:00:00.000Z',
      sequence: '0000000000000005',
      data,
    });
    const event = decodeEvent(
      {
        headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
        body: Buffer.from(body),
      },
      { resolve },
    );
    expect(event).toMatchObject({
      id: 'ext-1',
      source: '/elsewhere',
      dataversion: 1,
      correlationid: 'ext-1',
      sequence: 5,
      data,
    });
  });

  it('rejects structured events that are not objects or carry binary data', () => {
    const structured = (body: unknown) => ({
      headers: { 'content-type': 'application/cloudevents+json' },
      body: Buffer.from(JSON.stringify(body)),
    });
    expect(() => parseWireMessage(structured([1]))).toThrowError(/must be a JSON object/);
    expect(() =>
      parseWireMessage(
        structured({ specversion: '1.0', id: 'x', source: 's', type: 't', data_base64: 'AA==' }),
      ),
    ).toThrowError(/data_base64/);
    expect(() =>
      parseWireMessage(
        structured({
          specversion: '1.0',
          id: 'x',
          source: 's',
          type: 't',
          datacontenttype: 'text/plain',
        }),
      ),
    ).toThrowError(expect.objectContaining({ code: ErrorCodes.DECODE_FAILED }));
  });

  it('turns hostile structured attributes into EDAKIT_DECODE_FAILED, never a bare TypeError', () => {
    const hostile = (id: unknown) => ({
      headers: { 'content-type': 'application/cloudevents+json' },
      body: Buffer.from(
        JSON.stringify({ specversion: '1.0', id, source: 's', type: 'order.created', data }),
      ),
    });
    expect(() => decodeEvent(hostile({ toString: 1 }), { resolve })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.DECODE_FAILED,
        context: expect.objectContaining({ path: 'id' }),
      }),
    );
    expect(() => decodeEvent(hostile(['a']), { resolve })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.DECODE_FAILED }),
    );
    const badHeader = {
      headers: {
        ce_id: 5 as unknown as string,
        ce_type: 'order.created',
        ce_source: 's',
        ce_specversion: '1.0',
      },
      body: Buffer.from('{}'),
    };
    expect(() => decodeEvent(badHeader, { resolve })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.DECODE_FAILED }),
    );
  });

  it('treats a missing dataversion as version 1 and a missing correlationid as the id', () => {
    const { message } = encoded();
    const event = decodeEvent(
      withHeaders(message, { ce_dataversion: undefined, ce_correlationid: undefined }),
      { resolve },
    );
    expect(event.dataversion).toBe(1);
    expect(event.correlationid).toBe(event.id);
  });

  it.each([
    ['malformed JSON', (m: WireMessage) => withBody(m, '{"orderId": '), /not valid JSON/],
    ['invalid UTF-8', (m: WireMessage) => withBody(m, new Uint8Array([0x7b, 0xff, 0x7d])), /UTF-8/],
    ['an empty body', (m: WireMessage) => withBody(m, ''), /not valid JSON/],
    [
      'a non-JSON content type',
      (m: WireMessage) => withHeaders(m, { 'content-type': 'application/avro' }),
      /not JSON/,
    ],
    [
      'an unsupported specversion',
      (m: WireMessage) => withHeaders(m, { ce_specversion: '0.3' }),
      /specversion "0.3"/,
    ],
  ])('rejects %s with EDAKIT_DECODE_FAILED', (_name, mutate, message) => {
    const { envelope, message: good } = encoded();
    const attempt = () => decodeEvent(mutate(good), { resolve, channel: 'order' });
    expect(attempt).toThrowError(message);
    expect(attempt).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.DECODE_FAILED,
        context: expect.objectContaining({
          eventId: envelope.id,
          eventType: 'order.created',
          channel: 'order',
        }),
      }),
    );
  });

  it.each(['id', 'source', 'type', 'specversion'])(
    'rejects a missing %s with EDAKIT_MISSING_ATTRIBUTE',
    (attribute) => {
      const { message } = encoded();
      expect(() =>
        decodeEvent(withHeaders(message, { [`ce_${attribute}`]: undefined }), { resolve }),
      ).toThrowError(
        expect.objectContaining({
          code: ErrorCodes.MISSING_ATTRIBUTE,
          attribute,
          context: expect.objectContaining({ path: attribute }),
        }),
      );
    },
  );

  it.each([
    ['dataversion', 'two'],
    ['dataversion', '-1'],
    ['sequence', '12x'],
    ['time', 'yesterday'],
  ])('rejects a malformed %s (%j) with EDAKIT_MISSING_ATTRIBUTE', (attribute, value) => {
    const { message } = encoded();
    expect(() =>
      decodeEvent(withHeaders(message, { [`ce_${attribute}`]: value }), { resolve }),
    ).toThrowError(expect.objectContaining({ code: ErrorCodes.MISSING_ATTRIBUTE, attribute }));
  });

  it('rejects an unknown type with EDAKIT_UNKNOWN_EVENT naming the type and id', () => {
    const { envelope, message } = encoded();
    expect(() =>
      decodeEvent(withHeaders(message, { ce_type: 'order.exploded' }), {
        resolve,
        channel: 'order',
      }),
    ).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.UNKNOWN_EVENT,
        context: expect.objectContaining({
          eventType: 'order.exploded',
          eventId: envelope.id,
          channel: 'order',
        }),
      }),
    );
  });

  it('rejects a future version with EDAKIT_UNSUPPORTED_VERSION', () => {
    const { message } = encoded();
    expect(() =>
      decodeEvent(withHeaders(message, { ce_dataversion: '2' }), { resolve }),
    ).toThrowError(
      expect.objectContaining({ code: ErrorCodes.UNSUPPORTED_VERSION, version: 2, supported: 1 }),
    );
    expect(() =>
      decodeEvent(withHeaders(message, { ce_dataversion: '0' }), { resolve }),
    ).toThrowError(expect.objectContaining({ code: ErrorCodes.UNSUPPORTED_VERSION, version: 0 }));
  });

  it('rejects schema violations with EDAKIT_VALIDATION_FAILED and the failing path', () => {
    const { envelope, message } = encoded();
    const bad = withBody(
      message,
      JSON.stringify({ orderId: 'o-1', lines: [{ sku: 'A', quantity: -1 }] }),
    );
    expect(() => decodeEvent(bad, { resolve })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.VALIDATION_FAILED,
        issues: [expect.objectContaining({ path: 'lines.0.quantity', code: 'too_small' })],
        context: expect.objectContaining({
          eventType: 'order.created',
          eventId: envelope.id,
          path: 'lines.0.quantity',
        }),
      }),
    );
  });

  it('rejects a message over the limit with EDAKIT_PAYLOAD_TOO_LARGE before parsing it', () => {
    const { message } = encoded();
    const big = withBody(message, `{"orderId":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    expect(() => decodeEvent(big, { resolve })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.PAYLOAD_TOO_LARGE, limit: 1024 * 1024 }),
    );
    expect(() => decodeEvent(message, { resolve, maxBytes: 100 })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.PAYLOAD_TOO_LARGE, limit: 100 }),
    );
  });

  it.each([
    [
      '__proto__',
      '{"orderId":"o","lines":[],"meta":{"__proto__":{"polluted":true}}}',
      'meta.__proto__',
    ],
    [
      'constructor',
      '{"orderId":"o","lines":[{"sku":"a","quantity":1,"constructor":{"prototype":{"x":1}}}]}',
      'lines.0.constructor',
    ],
    [
      'an escaped __proto__',
      '{"orderId":"o","lines":[],"meta":{"\\u005f_proto__":{"polluted":true}}}',
      'meta.__proto__',
    ],
    ['prototype', '{"orderId":"o","lines":[],"prototype":1}', 'prototype'],
  ])('never lets %s reach a prototype: the message is rejected', (_name, body, path) => {
    const { message } = encoded();
    expect(() => decodeEvent(withBody(message, body), { resolve })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.DECODE_FAILED,
        context: expect.objectContaining({ path }),
      }),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts those words as values, and JSON content types with parameters', () => {
    const { message } = encoded();
    const body = JSON.stringify({ orderId: '__proto__ constructor prototype', lines: [] });
    const event = decodeEvent(
      withHeaders(withBody(message, body), { 'content-type': 'application/json; charset=utf-8' }),
      { resolve },
    );
    expect(event.data).toMatchObject({ orderId: '__proto__ constructor prototype' });
  });
});
