// Contracts

// Bus, handlers, middleware
export type {
  BusOptions,
  StopOptions,
  SubscribeOptions,
  UnknownEventPolicy,
} from './bus/bus-options';
export {
  type Bus,
  type BusHealth,
  type BusState,
  createBus,
  type PreparedEvent,
} from './bus/create-bus';
export type { Subscription } from './bus/subscription';
// Event catalog (docs and AsyncAPI)
export {
  type AsyncApiDocument,
  type AsyncApiOptions,
  type AsyncApiServer,
  asyncApiDocument,
} from './catalog/asyncapi';
export {
  type Catalog,
  type CatalogEntry,
  type CatalogEvent,
  type CatalogEventKind,
  type CatalogOptions,
  isCatalog,
} from './catalog/catalog';
export { defineCatalog } from './catalog/define-catalog';
export { type CatalogPage, eventPages } from './catalog/event-pages';
export type { JsonSchema } from './catalog/json-schema';
export { DEFAULT_MAX_MESSAGE_BYTES } from './codec/attributes';
export {
  type DecodeOptions,
  decodeEvent,
  type ParseOptions,
  parseWireMessage,
  type RawEvent,
  toEnvelope,
} from './codec/decode';
export { type EncodeOptions, encodeEnvelope } from './codec/encode';
export {
  type ContentMode,
  defaultHeaderNaming,
  type HeaderNaming,
  resolveContentMode,
  STRUCTURED_CONTENT_TYPE,
  type WireMessage,
  wireSize,
} from './codec/wire-message';
export { type DefineEventOptions, defineEvent } from './contract/define-event';
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
export { type DeadLetterInfo, readDeadLetterInfo } from './dead-letter/dead-letter-info';
export { FailureHeaders, headersForRedrive } from './dead-letter/failure-headers';
// Envelope and codec
export { createEnvelope } from './envelope/create-envelope';
export type { EventEnvelope, PublishOptions } from './envelope/event-envelope';
export { isUuidV7, uuidv7 } from './envelope/uuid-v7';
// Errors
export * from './errors/decode-errors';
export { EdakitError, type EdakitErrorOptions, type ErrorContext } from './errors/edakit-error';
export { type ErrorCode, ErrorCodes } from './errors/error-codes';
export * from './errors/handling-errors';
export { messageOf } from './errors/message-of';
export * from './errors/usage-errors';
export {
  type ConsumedEvent,
  type ContextPublish,
  type EventHandler,
  type HandlerBinding,
  type HandlerBindingOptions,
  type HandlerContext,
  on,
} from './handler/handler';
// Health: a plain report and a Node HTTP handler (metrics: @edakit/core/prometheus)
export {
  type HealthCheckOptions,
  type HealthCheckResult,
  type HealthReport,
  type HealthThresholds,
  healthCheck,
  type OutboxFigures,
  type OutboxFiguresSource,
} from './health/health-check';
export {
  type HealthHandlerOptions,
  type HttpRequest,
  type HttpResponse,
  healthHandler,
  type NodeHttpHandler,
} from './health/health-handler';
export type { AcquireResult, IdempotencyStore } from './idempotency/idempotency-store';
export {
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
} from './idempotency/memory-idempotency-store';
export { type Logger, silentLogger, withFields } from './logging/logger';
export { type TraceLogFields, traceLogFields } from './logging/trace-fields';
export { InMemoryTransport, type InMemoryTransportOptions } from './memory/in-memory-transport';
export { MemoryBroker, type MemoryBrokerOptions } from './memory/memory-broker';
export { type IdempotencyOptions, idempotency } from './middleware/idempotency';
export { composeMiddleware, type Middleware } from './middleware/middleware';
// Observers: what metrics and tracing watch
export type {
  BusObserver,
  DeadLetterObservation,
  HandlerObservation,
  PublishObservation,
  RetryObservation,
} from './observability/bus-observer';
export type {
  BatchTraceStart,
  BusTracing,
  HandleTraceStart,
  PublishTrace,
  PublishTraceStart,
} from './observability/bus-tracing';
export type {
  SagaFiguresSource,
  SagaInstanceCount,
  SagaObserver,
} from './observability/saga-observer';
export type {
  SagaStepOutcome,
  SagaStepTrace,
  SagaStepTraceStart,
  SagaTracing,
} from './observability/saga-tracing';
export {
  decideFailure,
  describeFailure,
  type FailureContext,
  type FailureDescription,
} from './retry/failure-outcome';
// Failure policy and dead letters
export {
  type BackoffOptions,
  type RetryOptions,
  type RetryPolicy,
  resolveRetryPolicy,
} from './retry/retry-policy';
export { KeyedQueue } from './scheduling/keyed-queue';
export {
  type DeadLetter,
  type DeadLetterAdmin,
  type DeadLetterQuery,
  hasDeadLetterAdmin,
  type RedriveRequest,
} from './transport/dead-letter-admin';
export { ack, release, type SettleOutcome } from './transport/settle-outcome';
// Transport seam (for transport authors)
export type {
  BacklogFigure,
  ConsumerHealth,
  Delivery,
  HealthStatus,
  OutgoingMessage,
  Transport,
  TransportConsumer,
  TransportHealth,
  TransportSubscription,
} from './transport/transport';
