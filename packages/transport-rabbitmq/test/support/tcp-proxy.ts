import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Broker bytes not yet forwarded (a partial frame, or everything while frozen). */
  pending: Buffer;
}

/**
 * A TCP proxy in front of the broker, to fault one transport's connections
 * without touching anyone else's. It forwards the broker's bytes frame by
 * frame (AMQP 0-9-1 frames: type, channel, size, payload, 0xCE), so it can
 * `freeze()` them (confirms never arrive), `inject()` a frame of its own
 * between two real ones, and `cut()` every connection.
 */
export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private frozen = false;
  private refusing = false;

  private constructor(private readonly server: Server) {}

  static async start(host: string, port: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => proxy.accept(client, host, port));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** The broker's bytes stop reaching the clients (held in the proxy). */
  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) this.forward(pair);
  }

  /** Sends a frame to every client, as if the broker had sent it. */
  inject(frame: Buffer): void {
    for (const pair of this.pairs) pair.client.write(frame);
  }

  /** Every proxied connection drops, as if the network failed. */
  cut(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** A lasting outage: every connection drops and new ones are reset until `restore()`. */
  takeDown(): void {
    this.refusing = true;
    this.cut();
  }

  restore(): void {
    this.refusing = false;
  }

  get isDown(): boolean {
    return this.refusing;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host, port });
    const pair: Pair = { client, upstream, pending: Buffer.alloc(0) };
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      pair.pending = Buffer.concat([pair.pending, chunk]);
      this.forward(pair);
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  }

  /** Writes every complete frame held for this pair, unless frozen. */
  private forward(pair: Pair): void {
    if (this.frozen) return;
    let offset = 0;
    while (pair.pending.length - offset >= 7) {
      const size = pair.pending.readUInt32BE(offset + 3);
      const end = offset + 7 + size + 1;
      if (pair.pending.length < end) break;
      offset = end;
    }
    if (offset === 0) return;
    pair.client.write(pair.pending.subarray(0, offset));
    pair.pending = pair.pending.subarray(offset);
  }
}

/** A connection-level method frame (channel 0) with `args` as its arguments. */
export function connectionFrame(classId: number, methodId: number, args = Buffer.alloc(0)): Buffer {
  const payload = Buffer.alloc(4 + args.length);
  payload.writeUInt16BE(classId, 0);
  payload.writeUInt16BE(methodId, 2);
  args.copy(payload, 4);
  const frame = Buffer.alloc(7 + payload.length + 1);
  frame.writeUInt8(1, 0);
  frame.writeUInt16BE(0, 1);
  frame.writeUInt32BE(payload.length, 3);
  payload.copy(frame, 7);
  frame.writeUInt8(0xce, 7 + payload.length);
  return frame;
}

/** connection.blocked (10, 60) with a reason, and connection.unblocked (10, 61). */
export function blockedFrame(reason: string): Buffer {
  const text = Buffer.from(reason);
  return connectionFrame(10, 60, Buffer.concat([Buffer.from([text.length]), text]));
}

export const unblockedFrame = (): Buffer => connectionFrame(10, 61);
