import {
  defaultHeaderNaming,
  type HeaderNames,
  type HeaderNaming,
  headerNamesOf,
  STRUCTURED_CONTENT_TYPE,
} from '../codec/wire-message';
import type { AnyEventContract } from '../contract/event-contract';
import type { JsonSchema } from './json-schema';

/** The CloudEvents attributes edakit writes, by their attribute names. */
type Attribute = Exclude<keyof HeaderNames, 'contentType'>;

/** What `encodeEnvelope` always writes; the rest only when the event has them. */
const REQUIRED: readonly Attribute[] = [
  'specversion',
  'id',
  'source',
  'type',
  'dataversion',
  'correlationid',
  'datacontenttype',
];

/**
 * Each attribute of one event type as a JSON Schema, in the order documents
 * list them. Both content modes carry the same values (all strings); only
 * where they travel differs.
 */
function attributeSchemas(contract: AnyEventContract): [Attribute, JsonSchema][] {
  const text = (description: string) => ({ type: 'string', description });
  const versions = Array.from({ length: contract.version }, (_, index) => String(index + 1));
  return [
    ['specversion', { ...text('CloudEvents version.'), const: '1.0' }],
    ['id', text('Event id: a UUIDv7 unless the producer set one; kept on redelivery.')],
    ['source', text('URI-reference of the producing service, e.g. /services/orders.')],
    ['type', { ...text('Event type.'), const: contract.type }],
    [
      'dataversion',
      { ...text('Contract version of the data; consumers upcast older versions.'), enum: versions },
    ],
    ['correlationid', text('The conversation: the first event id unless the producer set one.')],
    ['datacontenttype', { ...text('Media type of the data.'), const: 'application/json' }],
    ['time', { ...text('When the event happened (RFC 3339).'), format: 'date-time' }],
    ['subject', text('Subject of the event within the source.')],
    ['causationid', text('Id of the event that caused this one.')],
    ['partitionkey', text('Aggregate id: events with one key keep their order.')],
    ['traceparent', text('W3C trace context.')],
    ['tracestate', text('W3C trace state.')],
    [
      'sequence',
      {
        ...text('Aggregate version, zero-padded to 16 digits so text order is numeric order.'),
        pattern: '^[0-9]{16}$',
      },
    ],
  ];
}

/**
 * The headers edakit's codec writes for one event type (CloudEvents binary
 * content mode), as a JSON Schema. Names follow the transport's naming:
 * `ce_id` under the Kafka binding (and the memory transport), `cloudEvents_id`
 * under AMQP; `datacontenttype` travels as the naming's content-type header.
 * `required` lists what `encodeEnvelope` always writes.
 */
export function cloudEventsHeaders(
  contract: AnyEventContract,
  naming: HeaderNaming = defaultHeaderNaming,
): JsonSchema {
  const names = headerNamesOf(naming);
  const header = (attribute: Attribute) =>
    attribute === 'datacontenttype' ? names.contentType : names[attribute];
  return {
    type: 'object',
    properties: Object.fromEntries(
      attributeSchemas(contract).map(([attribute, schema]) => [header(attribute), schema]),
    ),
    required: REQUIRED.map(header),
  };
}

/**
 * Structured content mode: the one header (the content type) and the event
 * document, attributes first and `data` (described by `data`) last.
 */
export function cloudEventsStructured(
  contract: AnyEventContract,
  data: JsonSchema,
  naming: HeaderNaming = defaultHeaderNaming,
): { headers: JsonSchema; payload: JsonSchema } {
  const contentType = headerNamesOf(naming).contentType;
  return {
    headers: {
      type: 'object',
      properties: {
        [contentType]: {
          type: 'string',
          description: 'A CloudEvent in the JSON event format.',
          const: STRUCTURED_CONTENT_TYPE,
        },
      },
      required: [contentType],
    },
    payload: {
      type: 'object',
      properties: { ...Object.fromEntries(attributeSchemas(contract)), data },
      required: [...REQUIRED, 'data'],
    },
  };
}
