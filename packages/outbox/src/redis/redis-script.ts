import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type ScriptArgument = string | number | Buffer;

/**
 * A Lua script run by sha, sent in full only when the server does not know it
 * (NOSCRIPT: first use, restart, SCRIPT FLUSH). Unlike ioredis's defineCommand
 * it does not add methods to the caller's client.
 */
export class RedisScript {
  readonly sha: string;

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  /** Replies with strings. */
  async run(
    client: Redis,
    keys: readonly string[],
    args: readonly ScriptArgument[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(this.lua, keys.length, ...keys, ...args);
    }
  }

  /** Replies with Buffers: for binary payloads. */
  async runBuffer(
    client: Redis,
    keys: readonly string[],
    args: readonly ScriptArgument[],
  ): Promise<unknown> {
    try {
      return await client.callBuffer('evalsha', this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.callBuffer('eval', this.lua, keys.length, ...keys, ...args);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
