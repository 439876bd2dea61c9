import type { AnyEventContract, EventData } from '../contract/event-contract';
import { InvalidOptionsError } from '../errors/usage-errors';
import type { EventEnvelope, PublishOptions } from './event-envelope';
import { parseTraceparent } from './traceparent';
import { uuidv7 } from './uuid-v7';

/**
 * Wraps already-validated data in an envelope. Callers validate first
 * (`validate`), so this function never sees a wrong shape.
 */
export function createEnvelope<C extends AnyEventContract>(
  contract: C,
  data: EventData<C>,
  source: string,
  options: PublishOptions = {},
): EventEnvelope<EventData<C>, C['type']> {
  // One clock reading for the id and the time.
  const now = Date.now();
  const id = options.id ?? uuidv7(now);
  if (id === '') {
    throw new InvalidOptionsError('An event id cannot be empty', errorContext(contract, id));
  }
  if (options.traceparent !== undefined && parseTraceparent(options.traceparent) === undefined) {
    throw new InvalidOptionsError(
      `traceparent "${options.traceparent}" is not a W3C trace context header`,
      errorContext(contract, id),
    );
  }
  if (
    options.sequence !== undefined &&
    (!Number.isSafeInteger(options.sequence) || options.sequence < 0)
  ) {
    throw new InvalidOptionsError(
      `sequence must be a non-negative integer, got ${options.sequence}`,
      errorContext(contract, id),
    );
  }
  return {
    specversion: '1.0',
    id,
    source,
    type: contract.type,
    time:
      options.time === undefined ? isoTime(now) : toTime(options.time, errorContext(contract, id)),
    subject: options.subject,
    datacontenttype: 'application/json',
    dataversion: contract.version,
    correlationid: options.correlationId ?? id,
    causationid: options.causationId,
    partitionkey: options.partitionKey ?? contract.partitionKey?.(data),
    traceparent: options.traceparent,
    tracestate: options.tracestate,
    sequence: options.sequence,
    data,
  };
}

function errorContext(contract: AnyEventContract, id: string): Record<string, string> {
  return { eventType: contract.type, eventId: id };
}

// Events published in one millisecond share its ISO string: formatting a Date
// cost more than the rest of the envelope.
let isoMs = Number.NaN;
let iso = '';

function isoTime(ms: number): string {
  if (ms !== isoMs) {
    iso = new Date(ms).toISOString();
    isoMs = ms;
  }
  return iso;
}

function toTime(time: Date | string, context: Record<string, string>): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(date.getTime())) {
    throw new InvalidOptionsError(`time "${String(time)}" is not a valid date`, context);
  }
  return date.toISOString();
}
