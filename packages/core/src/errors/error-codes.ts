/**
 * Every code edakit raises. Codes are part of the public API: never rename or
 * reuse one (a test checks each is documented in docs/errors.md).
 */
export const ErrorCodes = {
  /** The bytes are not a decodable event (malformed JSON, bad header, ...). */
  DECODE_FAILED: 'EDAKIT_DECODE_FAILED',
  /** A required CloudEvents attribute is missing or malformed. */
  MISSING_ATTRIBUTE: 'EDAKIT_MISSING_ATTRIBUTE',
  /** The event type is not in the registry of this service. */
  UNKNOWN_EVENT: 'EDAKIT_UNKNOWN_EVENT',
  /** The event's data version cannot be converted to the consumer's version. */
  UNSUPPORTED_VERSION: 'EDAKIT_UNSUPPORTED_VERSION',
  /** Event data does not match the contract's schema. */
  VALIDATION_FAILED: 'EDAKIT_VALIDATION_FAILED',
  /** The encoded message exceeds the configured size limit. */
  PAYLOAD_TOO_LARGE: 'EDAKIT_PAYLOAD_TOO_LARGE',
  /** An upcaster threw while converting an old version. */
  UPCAST_FAILED: 'EDAKIT_UPCAST_FAILED',
  /** A contract definition is invalid (bad name, version, gap in upcasters). */
  INVALID_CONTRACT: 'EDAKIT_INVALID_CONTRACT',
  /** Two different contracts claim the same type and version. */
  DUPLICATE_CONTRACT: 'EDAKIT_DUPLICATE_CONTRACT',
  /** An event catalog is invalid (duplicate type, no producer, changes of an unknown version). */
  INVALID_CATALOG: 'EDAKIT_INVALID_CATALOG',
  /** Options passed to a factory or method are invalid. */
  INVALID_OPTIONS: 'EDAKIT_INVALID_OPTIONS',
  /** A handler asked for no retry: the event goes to the dead-letter queue. */
  NON_RETRYABLE: 'EDAKIT_NON_RETRYABLE',
  /** Retries are exhausted; the event is dead-lettered. */
  RETRIES_EXHAUSTED: 'EDAKIT_RETRIES_EXHAUSTED',
  /** A handler did not finish within its timeout. */
  HANDLER_TIMEOUT: 'EDAKIT_HANDLER_TIMEOUT',
  /** Another consumer holds the event (idempotency lease); retry later. */
  EVENT_IN_FLIGHT: 'EDAKIT_EVENT_IN_FLIGHT',
  /** The bus or transport is not in a state that allows the call. */
  INVALID_STATE: 'EDAKIT_INVALID_STATE',
  /** The transport failed to publish; the broker did not confirm. */
  PUBLISH_FAILED: 'EDAKIT_PUBLISH_FAILED',
  /** The transport could not start consuming for a group (broker refused, unreachable, ...). */
  SUBSCRIBE_FAILED: 'EDAKIT_SUBSCRIBE_FAILED',
  /** The transport is closed. */
  TRANSPORT_CLOSED: 'EDAKIT_TRANSPORT_CLOSED',
  /** A wait in the test harness ran out of time. */
  WAIT_TIMEOUT: 'EDAKIT_WAIT_TIMEOUT',
  /** A dead-lettered message could not be found (redrive). */
  DEAD_LETTER_NOT_FOUND: 'EDAKIT_DEAD_LETTER_NOT_FOUND',
  /** A saga instance kept changing under a transition (optimistic concurrency); retried. */
  SAGA_CONFLICT: 'EDAKIT_SAGA_CONFLICT',
  /** A stored saga instance names a definition version this service does not register. */
  UNKNOWN_SAGA_VERSION: 'EDAKIT_UNKNOWN_SAGA_VERSION',
  /** An event the saga's current state does not expect, under the `retry` or `fail` policy. */
  UNEXPECTED_SAGA_EVENT: 'EDAKIT_UNEXPECTED_SAGA_EVENT',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
