import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { Config } from '../../src/platform/config';
import { RABBITMQ_RETRY_TIERS_MS } from '../../src/platform/transport';
import { orderSummaryArchiveTable } from '../../src/read-model/event-archive';
import { SERVICES } from '../../src/services';
import { orderStoreNames } from '../../src/services/orders/order-stores';

/**
 * Every consumer group a shop can have on RabbitMQ: one per service (`web`
 * has none, deleting what does not exist is harmless) and the order saga's.
 */
const GROUPS = [...Object.keys(SERVICES), 'saga.order'];

async function dropPostgres(config: Config): Promise<void> {
  const { ordersTable, outboxTable } = orderStoreNames(config.SHOP_NAMESPACE);
  const tables = [
    ordersTable,
    outboxTable,
    `${outboxTable}_sequences`,
    `${outboxTable}_leases`,
    orderSummaryArchiveTable(config.SHOP_NAMESPACE),
  ];
  const client = new pg.Client({ connectionString: config.DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${tables.join(', ')} CASCADE`);
  } finally {
    await client.end();
  }
}

async function dropRedis(config: Config): Promise<void> {
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    // The prefix holds braces (a hash tag): escape them for MATCH.
    const match = `${orderStoreNames(config.SHOP_NAMESPACE).sagaPrefix.replace(/[{}[\]*?\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function dropKafka(config: Config): Promise<void> {
  const kafka = new Kafka({
    clientId: 'shop-test-cleanup',
    brokers: config.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const prefix = `${config.SHOP_NAMESPACE}.`;
    const groups = (await admin.listGroups()).groups
      .map((group) => group.groupId)
      .filter((id) => id.startsWith(prefix));
    // A group still holding members (a process killed without leaving) cannot be deleted yet.
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

async function dropRabbitMq(config: Config): Promise<void> {
  const ns = config.SHOP_NAMESPACE;
  const connection = await connect(config.AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const group of GROUPS) {
      const queue = `${ns}.${group}`;
      for (const name of [
        queue,
        ...RABBITMQ_RETRY_TIERS_MS.map((tier) => `${queue}.retry.${tier}ms`),
        `${queue}.dlq`,
      ]) {
        await channel.deleteQueue(name);
      }
    }
    await channel.deleteQueue(`${ns}.events.unroutable`);
    await channel.deleteExchange(`${ns}.events`);
    await channel.deleteExchange(`${ns}.events.unroutable`);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/**
 * Deletes what a test shop left behind in its namespace: the orders tables,
 * the saga's Redis keys, and the broker's topics and groups (Kafka) or queues
 * and exchanges (RabbitMQ). Call it once the shop's processes have stopped.
 */
export async function dropNamespace(config: Config): Promise<void> {
  if (config.TRANSPORT === 'memory') return;
  await dropPostgres(config);
  await dropRedis(config);
  if (config.TRANSPORT === 'kafka') await dropKafka(config);
  else await dropRabbitMq(config);
}
