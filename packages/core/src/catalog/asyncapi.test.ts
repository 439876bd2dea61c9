import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OrderPlaced, shop } from '../../test/catalog/shop-catalog';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { type AsyncApiDocument, asyncApiDocument } from './asyncapi';
import type { Catalog } from './catalog';
import { defineCatalog } from './define-catalog';

const parser = new Parser();

/** Errors and warnings of the official parser, one line each, to show when a test fails. */
async function problems(document: AsyncApiDocument): Promise<string[]> {
  const diagnostics = await parser.validate(document);
  return diagnostics
    .filter(
      (diagnostic) =>
        diagnostic.severity === DiagnosticSeverity.Error ||
        diagnostic.severity === DiagnosticSeverity.Warning,
    )
    .map(
      (diagnostic) =>
        `${DiagnosticSeverity[diagnostic.severity]} ${diagnostic.code} at ${diagnostic.path.join('.')}: ${diagnostic.message}`,
    );
}

async function expectValid(document: AsyncApiDocument): Promise<void> {
  const found = await problems(document);
  expect(found, `AsyncAPI diagnostics:\n${found.join('\n')}`).toEqual([]);
}

describe('asyncApiDocument', () => {
  const document = asyncApiDocument(shop, {
    servers: {
      production: { host: 'kafka.internal:9092', protocol: 'kafka', description: 'The cluster' },
      local: { host: 'localhost:9092', protocol: 'kafka' },
    },
  });

  it('is a valid AsyncAPI 3.0.0 document, without errors or warnings', async () => {
    expect(document.asyncapi).toBe('3.0.0');
    await expectValid(document);
  });

  it('has one channel per contract channel, carrying its event types', async () => {
    expect(document.info).toEqual({
      title: 'Shop events',
      version: '2.1.0',
      description: 'What the shop services tell each other.',
    });
    expect(document.servers).toEqual({
      production: { host: 'kafka.internal:9092', protocol: 'kafka', description: 'The cluster' },
      local: { host: 'localhost:9092', protocol: 'kafka' },
    });
    expect(document.channels.payments).toEqual({
      address: 'payments',
      description: 'Carries payment.requested, payment.captured.',
      messages: {
        'payment.requested': { $ref: '#/components/messages/payment.requested' },
        'payment.captured': { $ref: '#/components/messages/payment.captured' },
      },
    });
    expect(Object.keys(document.channels)).toEqual(['order', 'payments']);

    const { document: parsed } = await parser.parse(document);
    const channel = parsed?.channels().get('payments');
    expect(
      channel
        ?.messages()
        .all()
        .map((message) => message.id()),
    ).toEqual(['payment.requested', 'payment.captured']);
  });

  it('has a send operation for the producer and a receive operation per consumer', async () => {
    expect(Object.keys(document.operations)).toEqual([
      'order.placed.send',
      'order.placed.receive.billing',
      'order.placed.receive.Shipping-Service',
      'payment.requested.send',
      'payment.requested.receive.payments',
      'payment.captured.send',
      'payment.captured.receive.billing',
    ]);
    expect(document.operations['order.placed.receive.Shipping-Service']).toEqual({
      action: 'receive',
      channel: { $ref: '#/channels/order' },
      messages: [{ $ref: '#/channels/order/messages/order.placed' }],
      title: 'Shipping Service receives order.placed',
      summary: 'A customer placed an order',
      tags: [{ name: 'Shipping Service' }],
    });
    const { document: parsed } = await parser.parse(document);
    const send = parsed?.operations().get('payment.requested.send');
    expect(send?.action()).toBe('send');
    expect(
      send
        ?.messages()
        .all()
        .map((message) => message.id()),
    ).toEqual(['payment.requested']);
  });

  it('describes each message: JSON Schema of the data, CloudEvents headers, correlation id', async () => {
    const message = document.components.messages['order.placed'];
    expect(message).toMatchObject({
      name: 'order.placed',
      contentType: 'application/json',
      payload: { $ref: '#/components/schemas/order.placed' },
      correlationId: { location: '$message.header#/ce_correlationid' },
      tags: [{ name: 'event' }],
    });
    const headers = message?.headers as { properties: Record<string, object>; required: string[] };
    expect(Object.keys(headers.properties)).toEqual([
      'ce_specversion',
      'ce_id',
      'ce_source',
      'ce_type',
      'ce_dataversion',
      'ce_correlationid',
      'content-type',
      'ce_time',
      'ce_subject',
      'ce_causationid',
      'ce_partitionkey',
      'ce_traceparent',
      'ce_tracestate',
      'ce_sequence',
    ]);
    expect(headers.required).toEqual([
      'ce_specversion',
      'ce_id',
      'ce_source',
      'ce_type',
      'ce_dataversion',
      'ce_correlationid',
      'content-type',
    ]);
    expect(headers.properties.ce_type).toMatchObject({ const: 'order.placed' });
    // A consumer on v3 reads events written in every version.
    expect(headers.properties.ce_dataversion).toMatchObject({ enum: ['1', '2', '3'] });

    const payload = document.components.schemas['order.placed'] as {
      properties: Record<string, { format?: string }>;
      required: string[];
    };
    expect(payload.properties.orderId?.format).toBe('uuid');
    expect(payload.required).not.toContain('currency');
    expect(payload).not.toHaveProperty('$schema');
    // zod's named definitions are reachable once embedded in the document.
    expect(JSON.stringify(payload)).toContain(
      '"$ref":"#/components/schemas/order.placed/definitions/Money"',
    );
  });

  it('stays valid for recursive schemas, their refs rebased into the document', async () => {
    const Node = z.object({
      id: z.string(),
      get children() {
        return z.array(Node);
      },
    });
    const Tree = defineEvent({ type: 'tree.grown', schema: Node, description: 'A tree grew' });
    const catalog = defineCatalog({
      title: 'Trees',
      version: '1',
      events: [{ contract: Tree, producer: 'forest', consumers: [] }],
    });
    const trees = asyncApiDocument(catalog);
    expect(trees.components.schemas['tree.grown']).toMatchObject({
      properties: { children: { items: { $ref: '#/components/schemas/tree.grown' } } },
    });
    expect(trees).not.toHaveProperty('servers');
    expect(trees.info).not.toHaveProperty('description');
    await expectValid(trees);
  });

  it("names headers after the transport's naming", async () => {
    const amqp = asyncApiDocument(shop, {
      headerNaming: { attributePrefix: 'cloudEvents_', contentType: 'content-type' },
    });
    const message = amqp.components.messages['payment.requested'];
    const headers = message?.headers as { properties: object } | undefined;
    expect(Object.keys(headers?.properties ?? {})).toContain('cloudEvents_type');
    expect(message?.correlationId.location).toBe('$message.header#/cloudEvents_correlationid');
    expect(message?.tags).toEqual([{ name: 'command' }]);
    await expectValid(amqp);
  });

  it('describes structured mode: one content-type header, the event document as the payload', async () => {
    const structured = asyncApiDocument(shop, { contentMode: 'structured' });
    const message = structured.components.messages['order.placed'];
    expect(message).toMatchObject({
      contentType: 'application/cloudevents+json',
      headers: {
        properties: {
          'content-type': { const: 'application/cloudevents+json; charset=utf-8' },
        },
        required: ['content-type'],
      },
      correlationId: { location: '$message.payload#/correlationid' },
    });
    const payload = message?.payload as {
      properties: Record<string, object>;
      required: string[];
    };
    expect(Object.keys(payload.properties)).toEqual([
      'specversion',
      'id',
      'source',
      'type',
      'dataversion',
      'correlationid',
      'datacontenttype',
      'time',
      'subject',
      'causationid',
      'partitionkey',
      'traceparent',
      'tracestate',
      'sequence',
      'data',
    ]);
    expect(payload.required).toEqual([
      'specversion',
      'id',
      'source',
      'type',
      'dataversion',
      'correlationid',
      'datacontenttype',
      'data',
    ]);
    expect(payload.properties.data).toEqual({ $ref: '#/components/schemas/order.placed' });
    expect(payload.properties.dataversion).toMatchObject({ enum: ['1', '2', '3'] });
    await expectValid(structured);
    expect(() =>
      asyncApiDocument(shop, { contentMode: 'compact' as unknown as 'binary' }),
    ).toThrowError(expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }));
  });

  it('keeps operation ids unique when service names differ only in punctuation', () => {
    const catalog = defineCatalog({
      title: 't',
      version: '1',
      events: [{ contract: OrderPlaced, producer: 'checkout', consumers: ['a b', 'a/b', 'a-b'] }],
    });
    expect(Object.keys(asyncApiDocument(catalog).operations)).toEqual([
      'order.placed.send',
      'order.placed.receive.a-b',
      'order.placed.receive.a-b-2',
      'order.placed.receive.a-b-3',
    ]);
  });

  it('rejects a server without host or protocol, and input that is not a catalog', () => {
    const broken = { host: '', protocol: 'kafka' };
    expect(() => asyncApiDocument(shop, { servers: { local: broken } })).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.INVALID_OPTIONS,
        message: 'AsyncAPI server "local" needs a host and a protocol',
      }),
    );
    expect(() => asyncApiDocument({ ...shop } as Catalog)).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_CATALOG }),
    );
  });
});
