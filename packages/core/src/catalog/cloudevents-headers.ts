import { defaultHeaderNaming, type HeaderNaming, headerNamesOf } from '../codec/wire-message';
import type { AnyEventContract } from '../contract/event-contract';
import type { JsonSchema } from './json-schema';

/**
 * The headers edakit's codec writes for one event type (CloudEvents binary
 * content mode), as a JSON Schema. Names follow the transport's naming:
 * `ce_id` under the Kafka binding (and the memory transport), `cloudEvents_id`
 * under AMQP. `required` lists what `encodeEnvelope` always writes.
 */
export function cloudEventsHeaders(
  contract: AnyEventContract,
  naming: HeaderNaming = defaultHeaderNaming,
): JsonSchema {
  const names = headerNamesOf(naming);
  const text = (description: string) => ({ type: 'string', description });
  const versions = Array.from({ length: contract.version }, (_, index) => String(index + 1));
  return {
    type: 'object',
    properties: {
      [names.specversion]: { ...text('CloudEvents version.'), const: '1.0' },
      [names.id]: text('Event id: a UUIDv7 unless the producer set one; kept on redelivery.'),
      [names.source]: text('URI-reference of the producing service, e.g. /services/orders.'),
      [names.type]: { ...text('Event type.'), const: contract.type },
      [names.dataversion]: {
        ...text('Contract version of the data; consumers upcast older versions.'),
        enum: versions,
      },
      [names.correlationid]: text(
        'The conversation: the first event id unless the producer set one.',
      ),
      [names.contentType]: { ...text('Media type of the body.'), const: 'application/json' },
      [names.time]: { ...text('When the event happened (RFC 3339).'), format: 'date-time' },
      [names.subject]: text('Subject of the event within the source.'),
      [names.causationid]: text('Id of the event that caused this one.'),
      [names.partitionkey]: text('Aggregate id: events with one key keep their order.'),
      [names.traceparent]: text('W3C trace context.'),
      [names.tracestate]: text('W3C trace state.'),
      [names.sequence]: {
        ...text('Aggregate version, zero-padded to 16 digits so text order is numeric order.'),
        pattern: '^[0-9]{16}$',
      },
    },
    required: [
      names.specversion,
      names.id,
      names.source,
      names.type,
      names.dataversion,
      names.correlationid,
      names.contentType,
    ],
  };
}
