import type { ContentMode, Logger } from '@edakit/core';
import type { CompressionTypes, KafkaConfig } from 'kafkajs';

export type RetryMode = 'non-blocking' | 'blocking';

export interface TopicSettings {
  /** Partitions of topics this transport creates. Default 3. */
  readonly partitions?: number;
  /** Replication factor of topics this transport creates. Default 1. */
  readonly replicationFactor?: number;
  /** Extra topic configs, e.g. { 'min.insync.replicas': '2' }. */
  readonly configs?: Readonly<Record<string, string>>;
}

export interface KafkaTransportOptions {
  /**
   * kafkajs client settings: brokers, clientId, ssl, sasl, timeouts. Passed
   * through as given; never logged.
   */
  readonly client: KafkaConfig;
  /** Prepended to every topic: `staging.` makes channel `order` topic `staging.order`. */
  readonly topicPrefix?: string;
  /** Settings of the topics `ensureTopics` creates (main, retry and DLQ). */
  readonly topics?: TopicSettings;
  /**
   * Create missing topics on first publish and subscribe (through the admin API,
   * never broker auto-creation). Default true.
   */
  readonly provisionTopics?: boolean;
  /**
   * Retry delays become retry topics, one per tier and group; a delay goes to the
   * smallest tier that holds it. Default [1 s, 10 s, 60 s, 10 min].
   */
  readonly retryTiersMs?: readonly number[];
  /**
   * 'non-blocking' (default): retries travel through retry topics, so later events
   * of the same key are not held up. 'blocking': the consumer waits and retries in
   * place, keeping per-key order. Within the fetched batch only that key waits; but
   * kafkajs fetches again only once every batch of a fetch is done, so a long
   * in-place wait also delays this consumer's next fetch of other partitions.
   */
  readonly retryMode?: RetryMode;
  /**
   * CloudEvents content mode of what the bus publishes (consumers read both):
   * `binary` (default) puts each attribute in a `ce_*` header; `structured`
   * sends the whole event as one JSON document with a single `content-type`
   * header. kafkajs spends a buffer per header, so structured mode costs the
   * client about half the CPU per record; tools that route or filter on
   * `ce_*` headers see none.
   */
  readonly contentMode?: ContentMode;
  readonly compression?: CompressionTypes;
  /** Largest request the producer sends; larger batches are split. Default 900 KiB. */
  readonly maxBatchBytes?: number;
  /** Consumer group session timeout, ms. Default 30 s. */
  readonly sessionTimeoutMs?: number;
  /** Consumer heartbeat interval, ms; finished offsets are committed as often. Default 3 s. */
  readonly heartbeatIntervalMs?: number;
  /**
   * Longest a fetch waits on the broker for new data, ms. A stop waits for the
   * fetch in progress, so this bounds how long an idle consumer takes to stop.
   * Default 1 s (kafkajs: 5 s).
   */
  readonly maxWaitTimeMs?: number;
  /** Backoff of a crashed consumer's restarts, ms: doubled up to 30 s. Default 500. */
  readonly restartBackoffMs?: number;
  readonly logger?: Logger;
}

export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [1_000, 10_000, 60_000, 600_000];
