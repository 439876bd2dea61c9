import { InvalidOptionsError, InvalidStateError } from '@edakit/core';
import type { Redis } from 'ioredis';

/**
 * Options a client handed to a Redis store must be created with, e.g.
 * `new Redis({ ...failFastRedisOptions, host })`.
 *
 * With ioredis's offline queue, a command issued while disconnected is kept
 * and sent after the reconnect, long after its caller may have given up: a
 * claim or an acquire would then take a lease nobody uses. Without it, a
 * command fails at once and the caller decides (fail closed). A bounded
 * `maxRetriesPerRequest` does the same for commands caught by a disconnect.
 */
export const failFastRedisOptions: Readonly<{
  enableOfflineQueue: false;
  maxRetriesPerRequest: number;
}> = Object.freeze({ enableOfflineQueue: false, maxRetriesPerRequest: 2 });

/** Throws InvalidOptionsError unless `client` fails fast (see failFastRedisOptions). */
export function assertFailFastClient(client: Redis, owner: string): void {
  if (typeof client !== 'object' || client === null || typeof client.evalsha !== 'function') {
    throw new InvalidOptionsError(`${owner} needs an ioredis client`);
  }
  // Redis Cluster would need every key of a script in one hash slot; not supported here.
  if ((client as { isCluster?: boolean }).isCluster === true) {
    throw new InvalidOptionsError(`${owner} does not support Redis Cluster clients`);
  }
  const { enableOfflineQueue, maxRetriesPerRequest } = client.options;
  if (enableOfflineQueue !== false) {
    throw new InvalidOptionsError(
      `${owner} needs an ioredis client created with enableOfflineQueue: false, so that no command runs after its caller gave up (spread failFastRedisOptions into the client's options)`,
      { enableOfflineQueue },
    );
  }
  if (typeof maxRetriesPerRequest !== 'number') {
    throw new InvalidOptionsError(
      `${owner} needs an ioredis client with a bounded maxRetriesPerRequest (null retries a command forever)`,
      { maxRetriesPerRequest },
    );
  }
}

/**
 * The outbox scripts derive per-key names from the outbox prefix inside Lua,
 * where ioredis's client-side keyPrefix does not reach: with one set, those
 * keys and the declared ones would disagree between clients. Use the outbox's
 * own prefix option instead.
 */
export function assertNoClientKeyPrefix(keyPrefix: string | undefined, owner: string): void {
  if (keyPrefix) {
    throw new InvalidOptionsError(
      `${owner} needs an ioredis client without keyPrefix; give the outbox its own prefix option instead`,
      { keyPrefix },
    );
  }
}

/**
 * Resolves once the client can take commands. With the offline queue off, a
 * command sent while a new client is still connecting fails at once, so a
 * store's `open` waits here: it connects a lazy client, waits for one that is
 * connecting, and fails with the connection's error instead of retrying.
 */
export async function untilReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') {
    await client.connect();
    return;
  }
  if (client.status === 'end' || client.status === 'close') {
    throw new InvalidStateError('The Redis client is closed', { status: client.status });
  }
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      client.off('ready', onReady).off('error', onError).off('end', onEnd);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = () => settle();
    const onError = (error: unknown) => settle(error);
    const onEnd = () =>
      settle(new InvalidStateError('The Redis client closed before it was ready', {}));
    client.once('ready', onReady).once('error', onError).once('end', onEnd);
  });
}
