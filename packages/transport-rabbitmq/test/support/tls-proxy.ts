import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';

/** PEM material of a throwaway PKI: a CA, a server certificate it signed, a client certificate it signed. */
export interface TestPki {
  /** The CA certificate: what a client passes as `ca` to trust the server. */
  readonly ca: string;
  /** Server certificate for `localhost` (SAN `DNS:localhost`, `IP:127.0.0.1`) and its key. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate (CN `edakit-test-client`, clientAuth) and its key, for mutual TLS. */
  readonly clientCert: string;
  readonly clientKey: string;
}

/**
 * Makes a fresh CA and certificates with the `openssl` CLI in a temporary
 * folder (removed before returning): nothing is checked in, nothing outlives
 * the test. EC P-256 keys, valid for a day.
 */
export function generateTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'edakit-tls-'));
  const run = (...args: string[]): void => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(
        `openssl ${args[0]} failed (the TLS tests need the openssl CLI): ${stderr || (error as Error).message}`,
      );
    }
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    run(
      'req',
      '-x509',
      ...newKey,
      ...['-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=edakit test CA'],
      ...['-addext', 'basicConstraints=critical,CA:TRUE'],
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    );
    const leaf = (name: string, subject: string, extensions: string, serial: string) => {
      run('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      writeFileSync(join(dir, `${name}.ext`), extensions);
      run(
        'x509',
        '-req',
        ...['-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial],
        ...['-days', '1', '-out', `${name}.crt`, '-extfile', `${name}.ext`],
      );
    };
    leaf(
      'server',
      '/CN=localhost',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n',
      '2',
    );
    leaf(
      'client',
      '/CN=edakit-test-client',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
      '3',
    );
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    return {
      ca: read('ca.crt'),
      serverCert: read('server.crt'),
      serverKey: read('server.key'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TlsProxyOptions {
  readonly pki: TestPki;
  /** Mutual TLS: ask for a client certificate signed by the test CA and refuse a client without one. */
  readonly requireClientCertificate?: boolean;
}

/** One TLS session the proxy completed. */
export interface TlsSession {
  readonly protocol: string | null;
  /** CN of the client certificate, when the client presented one the CA signed. */
  readonly clientCertificate: string | undefined;
  /** The first bytes the client sent inside TLS (an AMQP client: `AMQP\0\0\x09\x01`). */
  firstBytes: Buffer;
}

/**
 * A TLS-terminating proxy in front of the plain AMQP listener: the broker has
 * no TLS listener, so the tests speak amqps to this, and it forwards the
 * decrypted bytes over plain TCP. It records every completed handshake
 * (`sessions`), every failed one (`failedHandshakes`, the server side's view)
 * and how many connections it opened to the broker (`upstreams`).
 */
export class TlsProxy {
  readonly sessions: TlsSession[] = [];
  readonly failedHandshakes: string[] = [];
  upstreams = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(host: string, port: number, options: TlsProxyOptions): Promise<TlsProxy> {
    const mutual = options.requireClientCertificate === true;
    const server = createServer({
      key: options.pki.serverKey,
      cert: options.pki.serverCert,
      ...(mutual ? { ca: options.pki.ca, requestCert: true, rejectUnauthorized: true } : {}),
    });
    const proxy = new TlsProxy(server);
    server.on('secureConnection', (client) => proxy.accept(client, host, port));
    server.on('tlsClientError', (error) => {
      proxy.failedHandshakes.push(error.message);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: TLSSocket, host: string, port: number): void {
    const peer = client.getPeerCertificate();
    const session: TlsSession = {
      protocol: client.getProtocol(),
      clientCertificate:
        client.authorized && peer && typeof peer.subject?.CN === 'string'
          ? peer.subject.CN
          : undefined,
      firstBytes: Buffer.alloc(0),
    };
    this.sessions.push(session);
    client.on('data', function first(chunk: Buffer) {
      session.firstBytes = Buffer.concat([session.firstBytes, chunk]).subarray(0, 8);
      if (session.firstBytes.length >= 8) client.off('data', first);
    });
    const upstream = createConnection({ host, port });
    this.upstreams++;
    this.sockets.add(client);
    this.sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
  }
}
