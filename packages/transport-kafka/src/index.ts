export type { PartitionLag } from './consumer-lag';
export type { GroupConsumerState } from './kafka-group-consumer';
export { REDRIVEN_HEADER, RETRY_DUE_AT_HEADER } from './kafka-headers';
export { KafkaTransport } from './kafka-transport';
export {
  DEFAULT_RETRY_TIERS_MS,
  type KafkaTransportOptions,
  type RetryMode,
  type TopicSettings,
} from './kafka-transport-options';
export { TopicNames, tierFor } from './topic-names';
