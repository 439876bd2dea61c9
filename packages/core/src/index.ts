// Contracts
export { defineEvent, type DefineEventOptions } from './contract/define-event';
export type {
  AnyEventContract,
  EventContract,
  EventData,
  EventInput,
  EvolveOptions,
  Upcaster,
} from './contract/event-contract';
export { ContractRegistry } from './contract/registry';
export { upcast } from './contract/upcast';
export { validate } from './contract/validate';

// Envelope and codec
export { createEnvelope } from './envelope/create-envelope';
export type { EventEnvelope, PublishOptions } from './envelope/event-envelope';
export { isUuidV7, uuidv7 } from './envelope/uuid-v7';
export { DEFAULT_MAX_MESSAGE_BYTES } from './codec/attributes';
export {
  decodeEvent,
  parseWireMessage,
  toEnvelope,
  type DecodeOptions,
  type ParseOptions,
  type RawEvent,
} from './codec/decode';
export { encodeEnvelope, type EncodeOptions } from './codec/encode';
export {
  defaultHeaderNaming,
  wireSize,
  type HeaderNaming,
  type WireMessage,
} from './codec/wire-message';

// Bus, handlers, middleware
export type {
  BusOptions,
  StopOptions,
  SubscribeOptions,
  UnknownEventPolicy,
} from './bus/bus-options';
export {
  createBus,
  type Bus,
  type BusHealth,
  type BusState,
  type PreparedEvent,
} from './bus/create-bus';
export type { Subscription } from './bus/subscription';
export {
  on,
  type ConsumedEvent,
  type ContextPublish,
  type EventHandler,
  type HandlerBinding,
  type HandlerBindingOptions,
  type HandlerContext,
} from './handler/handler';
export { silentLogger, type Logger } from './logging/logger';
export { composeMiddleware, type Middleware } from './middleware/middleware';
export { idempotency, type IdempotencyOptions } from './middleware/idempotency';
export type { AcquireResult, IdempotencyStore } from './idempotency/idempotency-store';
export {
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
} from './idempotency/memory-idempotency-store';

// Failure policy and dead letters
export {
  resolveRetryPolicy,
  type BackoffOptions,
  type RetryOptions,
  type RetryPolicy,
} from './retry/retry-policy';
export {
  decideFailure,
  describeFailure,
  type FailureContext,
  type FailureDescription,
} from './retry/failure-outcome';
export { FailureHeaders, withoutFailureHeaders } from './dead-letter/failure-headers';
export { readDeadLetterInfo, type DeadLetterInfo } from './dead-letter/dead-letter-info';

// Transport seam (for transport authors)
export type {
  Delivery,
  HealthStatus,
  OutgoingMessage,
  Transport,
  TransportConsumer,
  TransportHealth,
  TransportSubscription,
} from './transport/transport';
export { ack, release, type SettleOutcome } from './transport/settle-outcome';
export {
  hasDeadLetterAdmin,
  type DeadLetter,
  type DeadLetterAdmin,
  type DeadLetterQuery,
  type RedriveRequest,
} from './transport/dead-letter-admin';
export { KeyedQueue } from './scheduling/keyed-queue';
export { InMemoryTransport, type InMemoryTransportOptions } from './memory/in-memory-transport';
export { MemoryBroker, type MemoryBrokerOptions } from './memory/memory-broker';

// Errors
export * from './errors/decode-errors';
export { EdakitError, type EdakitErrorOptions, type ErrorContext } from './errors/edakit-error';
export { ErrorCodes, type ErrorCode } from './errors/error-codes';
export * from './errors/handling-errors';
export * from './errors/usage-errors';
