export { AMQP_HEADER_NAMING, TransportHeaders } from './amqp-message';
export { BrokerUnavailableError, PublishQueueFullError, TopologyMismatchError } from './errors';
export type { GroupConsumerState } from './group-consumer';
export type { ConnectionRole, ConnectionState } from './managed-connection';
export type { QueueStats } from './queue-stats';
export { RabbitMqTransport } from './rabbitmq-transport';
export {
  DEFAULT_EXCHANGE,
  DEFAULT_RETRY_TIERS_MS,
  type QueueType,
  type RabbitMqTransportOptions,
  type UnroutablePolicy,
} from './rabbitmq-transport-options';
export { TopologyNames, tierFor } from './topology-names';
