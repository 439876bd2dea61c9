import { type Logger, messageOf, TransportClosedError } from '@edakit/core';
import { type ChannelModel, connect, type Options, type SocketOptions } from 'amqplib';
import { backoffDelay, withTimeout } from './backoff';
import { describeConnectError } from './connect-error';
import { BrokerUnavailableError } from './errors';

export type ConnectionRole = 'publish' | 'consume';

const CLOSE_TIMEOUT_MS = 2_000;

export interface ManagedConnectionOptions {
  readonly role: ConnectionRole;
  readonly url: string | Options.Connect;
  readonly socketOptions: SocketOptions;
  /**
   * Bounds one connection attempt, handshake included (amqplib's socket
   * `timeout`, unless `socketOptions.timeout` sets it): a peer that accepts
   * the TCP connection and never answers would otherwise stall reconnects.
   */
  readonly connectTimeoutMs: number;
  readonly connectionName: string;
  readonly heartbeatSeconds: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  /** The broker address without secrets, for logs and errors. */
  readonly broker: string;
  /** Scrubs secrets from free text (library error messages). */
  readonly redact: (text: string) => string;
  readonly logger: Logger;
}

/** What health shows of one connection. */
export interface ConnectionState {
  readonly role: ConnectionRole;
  readonly connected: boolean;
  readonly blocked: boolean;
  readonly blockedReason?: string | undefined;
  /** Times the connection was lost and re-established. */
  readonly reconnects: number;
  readonly lastError?: string | undefined;
}

/**
 * One AMQP connection that comes back: after a loss it reconnects in the
 * background with backoff until closed. Every emitter has an `error` listener,
 * so a broker failure never crashes the process. Channels are the owners'
 * business: they see their channel close and ask for the connection again.
 */
export class ManagedConnection {
  private model: ChannelModel | undefined;
  private connecting: Promise<ChannelModel> | undefined;
  private closed = false;
  private blocked = false;
  private blockedReason: string | undefined;
  private reconnects = 0;
  private everConnected = false;
  private lastError: string | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly options: ManagedConnectionOptions) {}

  get state(): ConnectionState {
    return {
      role: this.options.role,
      connected: this.model !== undefined,
      blocked: this.blocked,
      blockedReason: this.blockedReason,
      reconnects: this.reconnects,
      lastError: this.lastError,
    };
  }

  get isBlocked(): boolean {
    return this.blocked;
  }

  get isConnected(): boolean {
    return this.model !== undefined;
  }

  /**
   * The live connection, connecting (with retries) when there is none. With a
   * timeout, rejects with BrokerUnavailableError when it runs out; the attempts
   * go on in the background.
   */
  get(timeoutMs?: number): Promise<ChannelModel> {
    if (this.closed) return Promise.reject(new TransportClosedError('rabbitmq'));
    if (this.model) return Promise.resolve(this.model);
    const connecting = this.startConnecting();
    if (timeoutMs === undefined) return connecting;
    return withTimeout(
      connecting,
      timeoutMs,
      () =>
        new BrokerUnavailableError(
          `RabbitMQ at ${this.options.broker} is not reachable (${this.options.role} connection, ${timeoutMs} ms)${this.lastError ? `: ${this.lastError}` : ''}`,
          { broker: this.options.broker, role: this.options.role },
        ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeUp?.();
    const model = this.model;
    this.model = undefined;
    if (!model) return;
    // A broker that stopped answering never sends close-ok: drop the socket instead.
    await withTimeout(model.close(), CLOSE_TIMEOUT_MS, () => new Error('close timed out')).catch(
      () => destroySocket(model),
    );
  }

  private startConnecting(): Promise<ChannelModel> {
    if (!this.connecting) {
      const connecting = this.connectLoop().finally(() => {
        if (this.connecting === connecting) this.connecting = undefined;
      });
      // Callers may have given up (timeout); a late rejection is expected, not unhandled.
      connecting.catch(() => undefined);
      this.connecting = connecting;
    }
    return this.connecting;
  }

  private async connectLoop(): Promise<ChannelModel> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new TransportClosedError('rabbitmq');
      try {
        const model = await connect(this.target(), {
          ...this.options.socketOptions,
          timeout: this.options.socketOptions.timeout ?? this.options.connectTimeoutMs,
          clientProperties: {
            ...(this.options.socketOptions.clientProperties ?? {}),
            connection_name: `${this.options.connectionName}:${this.options.role}`,
          },
        });
        if (this.closed) {
          await model.close().catch(() => undefined);
          throw new TransportClosedError('rabbitmq');
        }
        this.adopt(model);
        return model;
      } catch (error) {
        if (this.closed) throw new TransportClosedError('rabbitmq');
        // TLS failures named as such (untrusted CA, host name, client certificate).
        this.lastError = this.options.redact(describeConnectError(error));
        if (attempt === 1 || attempt % 10 === 0) {
          this.options.logger.warn(
            {
              broker: this.options.broker,
              role: this.options.role,
              attempt,
              error: this.lastError,
            },
            'rabbitmq connection attempt failed; retrying',
          );
        }
        await this.pause(
          backoffDelay(attempt, this.options.reconnectDelayMs, this.options.maxReconnectDelayMs),
        );
      }
    }
  }

  private adopt(model: ChannelModel): void {
    const { logger, role, broker, redact } = this.options;
    model.on('error', (error: Error) => {
      this.lastError = redact(messageOf(error));
      logger.warn({ broker, role, error: this.lastError }, 'rabbitmq connection error');
    });
    model.on('handler-error', (error: Error, eventName: string) => {
      logger.error(
        { broker, role, event: eventName, error: redact(messageOf(error)) },
        'a rabbitmq connection listener threw',
      );
    });
    model.on('blocked', (reason: string) => {
      this.blocked = true;
      this.blockedReason = reason;
      logger.warn({ broker, role, reason }, 'rabbitmq blocked the connection');
    });
    model.on('unblocked', () => {
      this.blocked = false;
      this.blockedReason = undefined;
      logger.info({ broker, role }, 'rabbitmq unblocked the connection');
    });
    model.on('close', (error?: Error) => {
      if (this.model !== model) return;
      this.model = undefined;
      this.blocked = false;
      this.blockedReason = undefined;
      if (this.closed) return;
      if (error) this.lastError = redact(messageOf(error));
      this.reconnects++;
      logger.warn(
        { broker, role, error: this.lastError },
        'rabbitmq connection lost; reconnecting',
      );
      void this.startConnecting();
    });
    if (this.everConnected) {
      logger.info({ broker, role }, 'rabbitmq connection re-established');
    }
    this.everConnected = true;
    this.model = model;
  }

  /** amqplib takes the heartbeat from the URL or the options object. */
  private target(): string | Options.Connect {
    const { url, heartbeatSeconds } = this.options;
    if (typeof url !== 'string') return { heartbeat: heartbeatSeconds, ...url };
    if (/[?&]heartbeat=/.test(url)) return url;
    return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeatSeconds}`;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** amqplib keeps the socket as `connection.stream`; it has no public "abort". */
function destroySocket(model: ChannelModel): void {
  const stream = (model.connection as { stream?: { destroy?: () => void } }).stream;
  stream?.destroy?.();
}
