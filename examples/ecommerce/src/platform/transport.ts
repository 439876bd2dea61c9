import { InMemoryTransport, MemoryBroker, type Transport } from '@edakit/core';
import { KafkaTransport } from '@edakit/transport-kafka';
import { RabbitMqTransport } from '@edakit/transport-rabbitmq';
import type { Config } from './config';

/**
 * One transport per process. On the memory transport every service of the
 * process shares one broker, which keeps a log per channel so the read model
 * can be rebuilt from the start, as from a Kafka topic.
 */
export function createTransport(config: Config, clientId: string): Transport {
  switch (config.TRANSPORT) {
    case 'memory':
      return new InMemoryTransport({ broker: new MemoryBroker({ retention: 1_000_000 }) });
    case 'kafka':
      return new KafkaTransport({
        client: { clientId, brokers: config.KAFKA_BROKERS.split(',') },
        topicPrefix: `${config.SHOP_NAMESPACE}.`,
        topics: { partitions: 3 },
        maxWaitTimeMs: 100,
      });
    case 'rabbitmq':
      return new RabbitMqTransport({
        url: config.AMQP_URL,
        exchange: `${config.SHOP_NAMESPACE}.events`,
        queuePrefix: `${config.SHOP_NAMESPACE}.`,
      });
  }
}
