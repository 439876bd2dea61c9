import { createHash } from 'node:crypto';
import { Command, type Redis } from 'ioredis';

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

  /**
   * Replies with Buffers: for binary payloads. Sent as a Command, not with
   * `callBuffer`: under `enableAutoPipelining` ioredis sends a `callBuffer`
   * without its command name (ioredis#1923), and the relay never claimed.
   */
  async runBuffer(
    client: Redis,
    keys: readonly string[],
    args: readonly ScriptArgument[],
  ): Promise<unknown> {
    try {
      return await sendBuffer(client, 'evalsha', this.sha, keys, args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return sendBuffer(client, 'eval', this.lua, keys, args);
    }
  }
}

function sendBuffer(
  client: Redis,
  name: 'eval' | 'evalsha',
  script: string,
  keys: readonly string[],
  args: readonly ScriptArgument[],
): Promise<unknown> {
  const command = new Command(name, [script, keys.length, ...keys, ...args], {
    replyEncoding: null,
  });
  client.sendCommand(command);
  return command.promise;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
