import { connect, createServer, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * Cuts one client's network to Kafka without touching the shared broker:
 * pass `socketFactory` in the client config. A proxy would not do, since
 * Kafka clients connect to the brokers the metadata advertises. `cut()`
 * destroys every socket with an error and makes new connections refused
 * (to a port nobody listens on) until `restore()`.
 */
export class NetworkCut {
  private readonly sockets = new Set<Socket>();
  private down = false;

  private constructor(private readonly refusedPort: number) {}

  static async create(): Promise<NetworkCut> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise((resolve) => server.close(resolve));
    return new NetworkCut(port);
  }

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = this.down
      ? connect({ host: '127.0.0.1', port: this.refusedPort }, onConnect)
      : connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  };

  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy(new Error('network cut (test)'));
    this.sockets.clear();
  }

  restore(): void {
    this.down = false;
  }
}
