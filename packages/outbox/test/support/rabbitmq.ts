import { RabbitMqTransport, type RabbitMqTransportOptions } from '@edakit/transport-rabbitmq';
import { type Channel, type ChannelModel, type ConsumeMessage, connect } from 'amqplib';
import {
  brokerHost,
  brokerPort,
  brokerUrl,
  rabbitmqctl,
} from '../../../transport-rabbitmq/test/support/rabbitmq-broker';

export { brokerHost, brokerPort };

const VHOST_PREFIX = 'edakit-obx-';

/**
 * A virtual host of its own for one test file (exchanges, queues, connections),
 * deleted by `remove()`. Vhosts of runs that died more than an hour ago go too.
 */
export async function createVhost(): Promise<{
  name: string;
  url: string;
  remove(): Promise<void>;
}> {
  const listed = await rabbitmqctl('list_vhosts', '--quiet', '--no-table-headers');
  for (const stale of listed.split('\n').map((line) => line.trim())) {
    const created = stale.startsWith(VHOST_PREFIX)
      ? Number.parseInt(stale.slice(VHOST_PREFIX.length).split('-')[0] ?? '', 36)
      : Number.NaN;
    if (Date.now() - created > 3_600_000) await rabbitmqctl('delete_vhost', stale).catch(() => '');
  }
  const name = `${VHOST_PREFIX}${Date.now().toString(36)}-${process.pid}`;
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    url: brokerUrl(name),
    async remove() {
      await rabbitmqctl('delete_vhost', name).catch(() => '');
    },
  };
}

/** A RabbitMQ transport with timings suited to tests (publish confirms within 2 s). */
export function rabbitTransport(
  url: string,
  overrides: Partial<RabbitMqTransportOptions> = {},
): RabbitMqTransport {
  return new RabbitMqTransport({
    url,
    connectionName: 'edakit-outbox-test',
    publishTimeoutMs: 2_000,
    connectTimeoutMs: 10_000,
    reconnectDelayMs: 50,
    maxReconnectDelayMs: 500,
    heartbeatSeconds: 5,
    retryTiersMs: [1_000],
    ...overrides,
  });
}

export interface Received {
  /** AMQP messageId: the event id. */
  readonly id: string;
  /** Receive time, ms since the epoch. */
  readonly at: number;
  /** The broker delivered it before (to this tap, whose connection then dropped). */
  readonly redelivered: boolean;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/**
 * A raw amqplib consumer (not edakit) on a durable classic queue bound to
 * everything published to `exchange`: what a consumer sees, in order,
 * duplicates kept. It acknowledges what it recorded and reconnects when its
 * connection drops, so a broker restart (other suites run `rabbitmqctl
 * stop_app`) loses nothing. The exchange must exist (connect the transport first).
 */
export class QueueTap {
  readonly received: Received[] = [];
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;
  private closed = false;
  private reconnecting: NodeJS.Timeout | undefined;

  private constructor(
    private readonly url: string,
    private readonly exchange: string,
    readonly queue: string,
  ) {}

  static async open(url: string, exchange: string, queue: string): Promise<QueueTap> {
    const tap = new QueueTap(url, exchange, queue);
    await tap.attach();
    return tap;
  }

  ids(): string[] {
    return this.delivered().map((message) => message.id);
  }

  /** How many times each id was published (a redelivery to this tap is not counted again). */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { id } of this.delivered()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  /** Deliveries, without the broker's redeliveries of messages already recorded. */
  delivered(): Received[] {
    const seen = new Set<string>();
    return this.received.filter((message) => {
      const again = message.redelivered && seen.has(message.id);
      seen.add(message.id);
      return !again;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnecting);
    await this.channel?.deleteQueue(this.queue).catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
  }

  private async attach(): Promise<void> {
    const connection = await connect(this.url);
    connection.on('error', () => undefined);
    connection.on('close', () => {
      if (this.connection !== connection || this.closed) return;
      this.connection = undefined;
      this.channel = undefined;
      this.retry();
    });
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.checkExchange(this.exchange);
    await channel.assertQueue(this.queue, {
      durable: true,
      arguments: { 'x-queue-type': 'classic' },
    });
    await channel.bindQueue(this.queue, this.exchange, '#');
    await channel.prefetch(1_000);
    this.connection = connection;
    this.channel = channel;
    await channel.consume(this.queue, (message) => {
      if (!message) return;
      this.take(message);
      channel.ack(message);
    });
  }

  private retry(): void {
    this.reconnecting = setTimeout(() => {
      if (this.closed) return;
      this.attach().catch(() => this.retry());
    }, 250);
  }

  private take(message: ConsumeMessage): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
      headers[name] = String(value);
    }
    this.received.push({
      id: String(message.properties.messageId),
      at: Date.now(),
      redelivered: message.fields.redelivered,
      headers,
      body: message.content,
    });
  }
}
