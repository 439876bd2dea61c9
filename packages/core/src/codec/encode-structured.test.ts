import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import { validate } from '../contract/validate';
import { createEnvelope } from '../envelope/create-envelope';
import { ErrorCodes } from '../errors/error-codes';
import { on } from '../handler/handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { waitFor } from '../testing/wait-for';
import { decodeEvent } from './decode';
import { encodeEnvelope } from './encode';
import { STRUCTURED_CONTENT_TYPE, wireSize } from './wire-message';

const OrderPlacedV1 = defineEvent({
  type: 'order.placed',
  schema: z.object({ orderId: z.string(), amount: z.number(), big: z.unknown().optional() }),
  description: 'placed (v1)',
});
// Version 2, so the dataversion attribute is not the default.
const OrderPlaced = OrderPlacedV1.evolve({
  schema: z.object({ orderId: z.string(), total: z.number(), big: z.unknown().optional() }),
  upcast: ({ amount, ...rest }) => ({ ...rest, total: amount }),
  description: 'placed',
  partitionKey: (order) => order.orderId,
});
const resolve = (type: string) => (type === OrderPlaced.type ? OrderPlaced : undefined);
const data = { orderId: 'o-7', total: 12.5 };
const everyOption = {
  subject: 'sub',
  causationId: 'cause-1',
  correlationId: 'corr-1',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'vendor=1',
  sequence: 42,
};

function envelopeOf(options: Parameters<typeof createEnvelope>[3] = {}) {
  return createEnvelope(OrderPlaced, validate(OrderPlaced, data), '/services/orders', options);
}

describe('structured content mode', () => {
  it('writes the whole event as one JSON document: one header, key = partitionkey', () => {
    const envelope = envelopeOf(everyOption);
    const message = encodeEnvelope(envelope, { contentMode: 'structured' });
    expect(message.key).toBe('o-7');
    expect(message.headers).toEqual({ 'content-type': STRUCTURED_CONTENT_TYPE });
    // Members in the order of the CloudEvents JSON format; extensions as binary mode's strings.
    expect(JSON.parse(Buffer.from(message.body).toString())).toStrictEqual({
      specversion: '1.0',
      id: envelope.id,
      source: '/services/orders',
      type: 'order.placed',
      time: envelope.time,
      subject: 'sub',
      datacontenttype: 'application/json',
      dataversion: '2',
      correlationid: 'corr-1',
      causationid: 'cause-1',
      partitionkey: 'o-7',
      traceparent: everyOption.traceparent,
      tracestate: 'vendor=1',
      sequence: '0000000000000042',
      data,
    });
  });

  it('decodes to the same envelope as binary mode, with and without the optional attributes', () => {
    for (const options of [everyOption, {}]) {
      const envelope = envelopeOf(options);
      const structured = decodeEvent(encodeEnvelope(envelope, { contentMode: 'structured' }), {
        resolve,
      });
      expect(structured).toStrictEqual(envelope);
      expect(structured).toStrictEqual(decodeEvent(encodeEnvelope(envelope), { resolve }));
    }
  });

  it('leaves out attributes the event does not have', () => {
    const envelope = envelopeOf();
    const event = JSON.parse(
      Buffer.from(encodeEnvelope(envelope, { contentMode: 'structured' }).body).toString(),
    );
    expect(Object.keys(event)).toEqual([
      'specversion',
      'id',
      'source',
      'type',
      'time',
      'datacontenttype',
      'dataversion',
      'correlationid',
      'partitionkey',
      'data',
    ]);
  });

  it("puts the content type in the naming's content-type header", () => {
    const message = encodeEnvelope(envelopeOf(), {
      contentMode: 'structured',
      naming: { attributePrefix: 'cloudEvents_', contentType: 'content_type' },
    });
    expect(message.headers).toEqual({ content_type: STRUCTURED_CONTENT_TYPE });
  });

  it('counts the whole document and its header against the size limit, to the byte', () => {
    const envelope = envelopeOf(everyOption);
    const size = wireSize(encodeEnvelope(envelope, { contentMode: 'structured' }));
    // The attributes travel in the body: larger than binary mode's body alone.
    expect(size).toBeGreaterThan(encodeEnvelope(envelope).body.byteLength + 300);
    expect(() =>
      encodeEnvelope(envelope, { contentMode: 'structured', maxBytes: size }),
    ).not.toThrow();
    expect(() =>
      encodeEnvelope(envelope, { contentMode: 'structured', maxBytes: size - 1 }),
    ).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.PAYLOAD_TOO_LARGE,
        size,
        limit: size - 1,
        context: expect.objectContaining({ eventType: 'order.placed', eventId: envelope.id }),
      }),
    );
  });

  it('refuses data JSON cannot hold with the same validation error as binary mode', () => {
    const envelope = createEnvelope(OrderPlaced, { ...data, big: 10n }, '/s');
    expect(() => encodeEnvelope(envelope, { contentMode: 'structured' })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.VALIDATION_FAILED,
        context: expect.objectContaining({ eventType: 'order.placed', eventId: envelope.id }),
      }),
    );
  });

  it('refuses an unknown mode with EDAKIT_INVALID_OPTIONS', () => {
    const mode = 'compact' as unknown as 'binary';
    expect(() => encodeEnvelope(envelopeOf(), { contentMode: mode })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.INVALID_OPTIONS,
        message: expect.stringContaining('"compact"'),
      }),
    );
    expect(() => new InMemoryTransport({ contentMode: mode })).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }),
    );
    // A transport of another author announcing a mode core does not know: refused at createBus.
    class OddTransport extends InMemoryTransport {
      override readonly contentMode = mode;
    }
    expect(() => createBus({ transport: new OddTransport(), source: '/s' })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.INVALID_OPTIONS,
        message: 'Transport "memory": contentMode must be "binary" or "structured", got "compact"',
      }),
    );
  });

  it("a bus encodes in its transport's mode, and a binary-mode consumer handles it", async () => {
    const transport = new InMemoryTransport({ contentMode: 'structured' });
    const bus = createBus({ transport, source: '/services/orders' });
    const handled: unknown[] = [];
    bus.subscribe({
      group: 'billing',
      handlers: [on(OrderPlaced, (event) => handled.push(event))],
    });
    await bus.start();
    const prepared = bus.prepare(OrderPlaced, data, { subject: 'sub' });
    expect(prepared.outgoing.message.headers).toEqual({ 'content-type': STRUCTURED_CONTENT_TYPE });
    const [sent] = await bus.publishBatch([prepared]);
    await waitFor(() => handled.length === 1, { description: 'the event handled' });
    expect(handled).toEqual([sent]);
    await bus.stop();
  });
});
