import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManagedConnection } from './managed-connection';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A peer that accepts TCP connections and never says a word (no AMQP handshake). */
async function silentPeer(): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, accepted: () => accepted };
}

function connectionTo(port: number, connectTimeoutMs: number): ManagedConnection {
  return new ManagedConnection({
    role: 'publish',
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    socketOptions: {},
    connectTimeoutMs,
    connectionName: 'test',
    heartbeatSeconds: 5,
    reconnectDelayMs: 10,
    maxReconnectDelayMs: 50,
    broker: `127.0.0.1:${port}`,
    redact: (text) => text,
    logger: silent,
  });
}

describe('ManagedConnection against a silent peer', () => {
  it('bounds the handshake by connectTimeoutMs and keeps retrying', async () => {
    const peer = await silentPeer();
    const connection = connectionTo(peer.port, 150);
    try {
      await expect(connection.get(1_500)).rejects.toThrow(/not reachable.*ETIMEDOUT/);
      expect(connection.state.lastError).toMatch(/ETIMEDOUT/);
      // Each timed-out attempt gave way to a new one instead of hanging.
      expect(peer.accepted()).toBeGreaterThanOrEqual(3);
    } finally {
      await connection.close();
    }
  });
});
