import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DeadLetter,
  type DeadLetterQuery,
  InMemoryTransport,
  MemoryBroker,
  type RedriveRequest,
  type Transport,
  type TransportConsumer,
  type TransportSubscription,
} from '@edakit/core';
import { KafkaTransport } from '@edakit/transport-kafka';
import { RabbitMqTransport } from '@edakit/transport-rabbitmq';
import type { Config } from './config';

/** RabbitMQ retry delays (core retries after 1, 2 and 4 s): two TTL queues per group. */
export const RABBITMQ_RETRY_TIERS_MS: readonly number[] = [1_000, 10_000];

/**
 * Kafka for the shop. Topics carry the namespace (`topicPrefix`), but Kafka
 * consumer groups are cluster-wide: the groups carry it too (`<namespace>.orders`),
 * so two shops on one cluster never join each other's groups. And every group
 * starts from the earliest offset: a service started after another already
 * published (another process, a slow join) still reads what it missed; a group
 * that committed offsets goes on from them.
 */
export class ShopKafkaTransport extends KafkaTransport {
  readonly groupPrefix: string;

  constructor(config: Config, clientId: string) {
    super({
      client: { clientId, brokers: config.KAFKA_BROKERS.split(',') },
      topicPrefix: `${config.SHOP_NAMESPACE}.`,
      topics: { partitions: 3 },
      // Retries wait in place: one order's events keep their order (the order's
      // status only moves forward), and a shop needs no retry topic per group
      // and channel (two topics per channel, 16 instead of about 150).
      retryMode: 'blocking',
      maxWaitTimeMs: 100,
      // A process killed without leaving its groups holds them this long.
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
    });
    this.groupPrefix = `${config.SHOP_NAMESPACE}.`;
  }

  override subscribe(subscription: TransportSubscription): Promise<TransportConsumer> {
    return super.subscribe({
      ...subscription,
      group: this.groupPrefix + subscription.group,
      startFrom: 'earliest',
    });
  }

  override listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    return super.listDeadLetters({ ...query, group: this.groupPrefix + query.group });
  }

  override redriveDeadLetters(request: RedriveRequest): Promise<number> {
    return super.redriveDeadLetters({ ...request, group: this.groupPrefix + request.group });
  }
}

/**
 * One transport per process. On the memory transport every service of the
 * process shares one broker, which keeps a log per channel so the read model
 * can be rebuilt from the start, as from a Kafka topic. On RabbitMQ the
 * namespace prefixes the exchange and every queue.
 */
export function createTransport(config: Config, clientId: string): Transport {
  switch (config.TRANSPORT) {
    case 'memory':
      return new InMemoryTransport({ broker: new MemoryBroker({ retention: 1_000_000 }) });
    case 'kafka':
      return new ShopKafkaTransport(config, clientId);
    case 'rabbitmq':
      return new RabbitMqTransport({
        url: config.AMQP_URL,
        connectionName: clientId,
        exchange: `${config.SHOP_NAMESPACE}.events`,
        queuePrefix: `${config.SHOP_NAMESPACE}.`,
        retryTiersMs: RABBITMQ_RETRY_TIERS_MS,
      });
  }
}

/**
 * Resolves once every consumer group of the transport consumes (a Kafka group
 * has joined and has its partitions), so a process that says it is ready
 * handles events at once; rejects after `timeoutMs`. Transports that report no
 * consumers in their health (memory) are ready at once.
 */
export async function whenConsuming(transport: Transport, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health: { status: string; details: { consumers?: unknown }; consumers?: unknown } =
      await transport.health();
    const consumers = health.consumers ?? health.details.consumers;
    if (!Array.isArray(consumers)) return;
    const waiting = (consumers as { group: string; running: boolean }[])
      .filter((consumer) => !consumer.running)
      .map((consumer) => consumer.group);
    if (waiting.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `Consumer groups not consuming after ${timeoutMs} ms: ${waiting.join(', ')} (${health.status})`,
      );
    }
    await sleep(200);
  }
}
