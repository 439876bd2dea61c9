import type { PooledClient, PoolLike } from './postgres-outbox-store';

/**
 * Runs `work` in BEGIN ... COMMIT on a pool client; ROLLBACK and rethrow on a
 * throw. A client whose transaction failed is destroyed rather than pooled:
 * its rollback may have failed too.
 */
export async function inTransaction<T>(
  pool: PoolLike,
  work: (client: PooledClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}
