import { type Logger, messageOf, silentLogger } from '@edakit/core';
import type { WakeSource } from '../relay/relay';
import type { OutboxTables } from './outbox-tables';

/** A dedicated, unpooled connection (pg's `Client`): LISTEN does not survive transaction pooling. */
export interface ListenerClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export interface CommitListenerOptions {
  /** Makes a new, not yet connected client; called again after each lost connection. */
  readonly connect: () => ListenerClient;
  readonly tables: OutboxTables;
  /** Wait before reconnecting after a lost connection (default 1 s). */
  readonly reconnectDelayMs?: number;
  readonly logger?: Logger;
}

/**
 * Wakes relays on the outbox's NOTIFY (writers created with `notify: true`).
 * Notifications sent while it is reconnecting are lost, so it also wakes the
 * relay once it is back: polling remains the guarantee, this only cuts latency.
 */
export class CommitListener implements WakeSource {
  private readonly listeners = new Set<() => void>();
  private client: ListenerClient | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly options: CommitListenerOptions) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1 && this.client === undefined) void this.open();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) void this.close();
    };
  }

  /** Connects now and resolves once LISTEN is in place (tests, eager start). */
  async ready(): Promise<void> {
    if (this.client === undefined) await this.open();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners();
    await client?.end().catch(() => undefined);
  }

  private async open(): Promise<void> {
    this.closed = false;
    const logger = this.options.logger ?? silentLogger;
    const client = this.options.connect();
    this.client = client;
    const lost = (error?: Error) => {
      if (this.client !== client || this.closed) return;
      this.client = undefined;
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      logger.warn(
        { error: error === undefined ? 'ended' : messageOf(error) },
        'outbox LISTEN connection lost; reconnecting',
      );
      this.retry = setTimeout(() => void this.open(), this.options.reconnectDelayMs ?? 1000);
      this.retry.unref();
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query(`LISTEN ${this.options.tables.channel}`);
      // Anything committed while we were not listening is found by this wake.
      this.wake();
    } catch (error) {
      lost(error instanceof Error ? error : new Error(messageOf(error)));
    }
  }

  private wake(): void {
    for (const listener of this.listeners) listener();
  }
}
