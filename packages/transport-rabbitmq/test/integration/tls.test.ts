import { type Bus, createBus, ErrorCodes, type EventEnvelope, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailableError, type RabbitMqTransport } from '../../src/index';
import {
  capturingLogger,
  namespace,
  startHealthy,
  stopAll,
  testTransport,
  vhost,
} from '../support/integration';
import { brokerHost, brokerPort } from '../support/rabbitmq-broker';
import { generateTestPki, type TestPki, TlsProxy } from '../support/tls-proxy';

/**
 * amqps and credentials through the transport, against a real TLS endpoint:
 * the broker has no TLS listener, so a TLS-terminating proxy in this process
 * (certificates from a CA made for this run) forwards to its plain port. The
 * transport is given nothing but `amqps://` and `socketOptions` (amqplib's
 * socket options, which are Node's `tls.connect` options).
 */

/** The first bytes of an AMQP 0-9-1 client: seen inside TLS, the login went over TLS. */
const AMQP_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

let pki: TestPki;
beforeAll(() => {
  pki = generateTestPki();
});

const buses: Bus[] = [];
const transports: RabbitMqTransport[] = [];
const proxies: TlsProxy[] = [];
afterEach(async () => {
  await stopAll(buses);
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

async function tlsProxy(requireClientCertificate = false): Promise<TlsProxy> {
  const proxy = await TlsProxy.start(brokerHost, brokerPort, { pki, requireClientCertificate });
  proxies.push(proxy);
  return proxy;
}

/** `localhost`: the name in the server certificate (amqplib sends it as SNI and checks it). */
function amqpsUrl(port: number, password = 'guest'): string {
  return `amqps://guest:${password}@localhost:${port}/${encodeURIComponent(vhost())}`;
}

/** How the transport names the broker in errors, logs and health. */
const redacted = (port: number) => `amqps://guest:***@localhost:${port}/${vhost()}`;

function tracked(transport: RabbitMqTransport): RabbitMqTransport {
  transports.push(transport);
  return transport;
}

/** Everything an error shows: message, stack, context, down its cause chain. */
function everythingOf(error: unknown): unknown[] {
  const parts: unknown[] = [];
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { message, stack, context, cause } = current as {
      message?: unknown;
      stack?: unknown;
      context?: unknown;
      cause?: unknown;
    };
    parts.push({ message, stack, context });
    current = cause;
  }
  return parts;
}

/** A bus that publishes an event and consumes it back in one group; resolves what it handled. */
async function roundTrip(transport: RabbitMqTransport): Promise<void> {
  const ns = namespace('tls');
  const contract = conformanceContract(ns);
  const bus = createBus({ transport, source: '/it/tls' });
  buses.push(bus);
  const handled: EventEnvelope[] = [];
  bus.subscribe({
    group: `${ns}-g`,
    handlers: [on(contract, async (event) => void handled.push(event))],
  });
  await startHealthy(bus);
  const published = await bus.publish(contract, { key: 'k-1', seq: 7, note: 'over TLS' });
  await waitFor(() => handled.length > 0 || undefined, {
    timeoutMs: 20_000,
    description: 'the event consumed back over amqps',
  });
  expect(handled).toHaveLength(1);
  expect(handled[0]?.id).toBe(published.id);
  expect(handled[0]?.type).toBe(`${ns}.happened`);
  expect(handled[0]?.data).toEqual({ key: 'k-1', seq: 7, note: 'over TLS' });
}

describe('TLS (amqps) through the transport', () => {
  it('publishes and consumes end to end with the CA passed as socketOptions.ca', async () => {
    const proxy = await tlsProxy();
    const transport = tracked(
      testTransport({ url: amqpsUrl(proxy.port), socketOptions: { ca: pki.ca } }),
    );
    await roundTrip(transport);

    // Two TLS sessions, the publishing and the consuming connection, each
    // carrying AMQP: nothing went around the proxy, nothing in clear text.
    expect(proxy.sessions).toHaveLength(2);
    for (const session of proxy.sessions) {
      expect(session.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(session.firstBytes).toEqual(AMQP_HEADER);
    }
    expect(proxy.upstreams).toBe(2);
    expect(proxy.failedHandshakes).toEqual([]);
    const health = await transport.health();
    expect(health.details).toMatchObject({ broker: redacted(proxy.port) });
  });

  it("takes amqplib's connect options object (protocol 'amqps') as well", async () => {
    const proxy = await tlsProxy();
    const transport = tracked(
      testTransport({
        url: {
          protocol: 'amqps',
          hostname: 'localhost',
          port: proxy.port,
          username: 'guest',
          password: 'guest',
          vhost: vhost(),
        },
        socketOptions: { ca: pki.ca },
      }),
    );
    await transport.connect();
    expect(proxy.sessions).toHaveLength(1);
    expect(proxy.sessions[0]?.firstBytes).toEqual(AMQP_HEADER);
  });

  it('without the CA, fails with a typed error that names the certificate problem and no secret', async () => {
    const proxy = await tlsProxy();
    // Verification fails before a byte of AMQP is sent, so the password's
    // validity does not matter; a distinctive one makes the leak check mean
    // something (guest's password is also its user name, which stays visible).
    const password = 'tls-Pa55-n0t-in-logs';
    const logger = capturingLogger();
    const transport = tracked(
      testTransport({
        url: amqpsUrl(proxy.port, password),
        connectTimeoutMs: 1_500,
        publishTimeoutMs: 1_000,
        logger,
      }),
    );
    const certificateProblem =
      /TLS: the broker's certificate is not trusted: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); pass the CA that issued it as socketOptions\.ca/;

    // transport.publish() directly, first thing: the publish failure code.
    // publishTimeoutMs below connectTimeoutMs, as with the defaults (10 s / 15 s).
    const bus = createBus({ transport, source: '/it/tls' });
    buses.push(bus);
    const contract = conformanceContract(namespace('tls-noca'));
    const { outgoing } = bus.prepare(contract, { key: 'k', seq: 1 });
    const publishError = await transport.publish([outgoing]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(publishError).toMatchObject({
      code: ErrorCodes.PUBLISH_FAILED,
      retryable: true,
      context: { broker: redacted(proxy.port) },
    });
    expect((publishError as Error).message).toMatch(certificateProblem);
    expect((publishError as Error).message).toContain('nothing was sent');

    // transport.connect() (what bus.start and bus.publish call first).
    const connectError = await transport.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(connectError).toBeInstanceOf(BrokerUnavailableError);
    expect(connectError).toMatchObject({
      code: ErrorCodes.INVALID_STATE,
      retryable: true,
      context: { broker: redacted(proxy.port), role: 'publish' },
    });
    expect((connectError as Error).message).toMatch(certificateProblem);
    expect((connectError as Error).message).toContain(
      `RabbitMQ at ${redacted(proxy.port)} is not reachable`,
    );

    // bus.publish(): connects first, so the transport's connect error as is.
    const busError = await bus.publish(contract, { key: 'k', seq: 2 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(busError).toBeInstanceOf(BrokerUnavailableError);
    expect((busError as Error).message).toMatch(certificateProblem);

    const health = await transport.health();
    expect(
      logger.entries.some((entry) => certificateProblem.test(String(entry.fields.error))),
    ).toBe(true);
    const everything = JSON.stringify({
      errors: [connectError, publishError, busError].map(everythingOf),
      health,
      logs: logger.entries,
    });
    expect(everything).not.toContain(password);
    expect(everything).toContain(redacted(proxy.port));

    // No TLS session completed and nothing reached the broker.
    expect(proxy.sessions).toEqual([]);
    expect(proxy.upstreams).toBe(0);
    expect(proxy.failedHandshakes.length).toBeGreaterThan(0);
  });

  it('with a host name the certificate does not list, names the mismatch', async () => {
    const proxy = await tlsProxy();
    const transport = tracked(
      testTransport({
        url: amqpsUrl(proxy.port),
        // SNI and the identity check use servername when it is given.
        socketOptions: { ca: pki.ca, servername: 'rabbit.example' },
        connectTimeoutMs: 1_500,
      }),
    );
    const error = await transport.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as Error).message).toMatch(
      /TLS: Hostname\/IP does not match certificate's altnames: Host: rabbit\.example\. is not in the cert's altnames: DNS:localhost.*\(ERR_TLS_CERT_ALTNAME_INVALID\)/,
    );
    expect(proxy.upstreams).toBe(0);
  });

  it('with a wrong password over TLS, gives the authentication error without the password', async () => {
    const proxy = await tlsProxy();
    const password = 'wr0ng-TLS-Pa55';
    const logger = capturingLogger();
    const transport = tracked(
      testTransport({
        url: amqpsUrl(proxy.port, password),
        socketOptions: { ca: pki.ca },
        connectTimeoutMs: 1_500,
        logger,
      }),
    );
    const error = await transport.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error).toMatchObject({ code: ErrorCodes.INVALID_STATE, retryable: true });
    expect((error as Error).message).toMatch(
      /ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/,
    );
    expect((error as Error).message).not.toMatch(/TLS:/);

    // The login was refused by the broker, over an established TLS session.
    expect(proxy.sessions.length).toBeGreaterThan(0);
    for (const session of proxy.sessions) expect(session.firstBytes).toEqual(AMQP_HEADER);

    const health = await transport.health();
    const refusals = logger.entries.filter((entry) =>
      /ACCESS_REFUSED/.test(String(entry.fields.error)),
    );
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toMatchObject({ level: 'warn', fields: { broker: redacted(proxy.port) } });
    const everything = JSON.stringify({ error: everythingOf(error), health, logs: logger.entries });
    expect(everything).not.toContain(password);
    expect(everything).toContain(redacted(proxy.port));
  });
});

describe('mutual TLS (the endpoint requires a client certificate)', () => {
  it('publishes and consumes with the client certificate in socketOptions.cert / key', async () => {
    const proxy = await tlsProxy(true);
    const transport = tracked(
      testTransport({
        url: amqpsUrl(proxy.port),
        socketOptions: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
      }),
    );
    await roundTrip(transport);
    expect(proxy.sessions).toHaveLength(2);
    for (const session of proxy.sessions) {
      expect(session.clientCertificate).toBe('edakit-test-client');
      expect(session.firstBytes).toEqual(AMQP_HEADER);
    }
    expect(proxy.failedHandshakes).toEqual([]);
  });

  it('without a client certificate, fails with an error that says one is required', async () => {
    const proxy = await tlsProxy(true);
    const transport = tracked(
      testTransport({
        url: amqpsUrl(proxy.port),
        socketOptions: { ca: pki.ca },
        connectTimeoutMs: 1_500,
      }),
    );
    const error = await transport.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error).toMatchObject({ code: ErrorCodes.INVALID_STATE, retryable: true });
    expect((error as Error).message).toMatch(
      /TLS: tlsv13 alert certificate required \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\); the broker asks for a client certificate: pass socketOptions\.cert and socketOptions\.key$/,
    );
    // OpenSSL's raw text (addresses, source files) is not in the message.
    expect((error as Error).message).not.toMatch(/SSL routines|\.c:\d+/);
    expect(proxy.sessions).toEqual([]);
    expect(proxy.upstreams).toBe(0);
    expect(
      proxy.failedHandshakes.some((text) => /peer did not return a certificate/.test(text)),
    ).toBe(true);
  });
});
