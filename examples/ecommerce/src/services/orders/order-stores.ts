import type { Bus } from '@edakit/core';
import { failFastRedisOptions } from '@edakit/outbox/redis';
import { MemorySagaStore, type SagaStore } from '@edakit/saga';
import { RedisSagaStore } from '@edakit/saga/redis';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../../platform/config';
import { MemoryOrderRepository } from './memory-order-repository';
import type { OrderRepository } from './order-record';
import { PostgresOrderRepository } from './postgres-order-repository';

export interface OrderStores {
  readonly orders: OrderRepository;
  readonly sagas: SagaStore;
  close(): Promise<void>;
}

/** Where the orders service keeps its state over a broker: every name carries the namespace. */
export function orderStoreNames(namespace: string) {
  return {
    /** PostgreSQL: the orders. */
    ordersTable: `${namespace}_orders`,
    /** PostgreSQL: the outbox (and its `_sequences` and `_leases` tables). */
    outboxTable: `${namespace}_order_outbox`,
    /** Redis: every key of the saga store (instances, timers, the saga's outbox). */
    sagaPrefix: `${namespace}:saga:{orders}:`,
  };
}

/**
 * Memory stores on the memory transport (nothing survives the process, as
 * nothing on that transport does); PostgreSQL for orders and Redis for the
 * saga when the example runs over a broker, so a restarted orders service
 * carries on where it stopped.
 */
export async function openOrderStores(config: Config, bus: Bus): Promise<OrderStores> {
  if (config.TRANSPORT === 'memory') {
    return {
      orders: new MemoryOrderRepository(),
      sagas: new MemorySagaStore(),
      close: async () => {},
    };
  }
  const names = orderStoreNames(config.SHOP_NAMESPACE);
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 5 });
  const redis = new Redis(config.REDIS_URL, failFastRedisOptions);
  try {
    const orders = await PostgresOrderRepository.open(pool, bus, names);
    const sagas = await RedisSagaStore.open({ client: redis, prefix: names.sagaPrefix });
    return {
      orders,
      sagas,
      async close() {
        await orders.close();
        redis.disconnect();
      },
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    redis.disconnect();
    throw error;
  }
}
