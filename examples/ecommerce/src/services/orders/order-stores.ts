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
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 5 });
  const redis = new Redis(config.REDIS_URL, failFastRedisOptions);
  try {
    const orders = await PostgresOrderRepository.open(pool, bus, config.SHOP_NAMESPACE);
    const sagas = await RedisSagaStore.open({
      client: redis,
      prefix: `${config.SHOP_NAMESPACE}:saga:{orders}:`,
    });
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
