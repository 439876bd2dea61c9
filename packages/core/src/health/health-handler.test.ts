import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../bus/create-bus';
import { InMemoryTransport } from '../memory/in-memory-transport';
import type { HealthReport } from './health-check';
import { healthHandler, type NodeHttpHandler } from './health-handler';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

async function serve(handler: NodeHttpHandler): Promise<string> {
  const server = createServer((request, response) => void handler(request, response));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

const report = (status: HealthReport['status'], live: boolean): HealthReport => ({
  status,
  live,
  ready: status !== 'down',
  checks: [{ name: 'consumer workers', status, live }],
});

describe('healthHandler', () => {
  it('answers 200 with the report of a started bus, and 503 once it stopped', async () => {
    const bus = createBus({ transport: new InMemoryTransport(), source: '/services/tasks' });
    await bus.start();
    const url = await serve(healthHandler({ buses: [bus] }));
    const up = await fetch(url);
    expect(up.status).toBe(200);
    expect(up.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(up.headers.get('cache-control')).toBe('no-store');
    expect(await up.json()).toMatchObject({ status: 'up', ready: true, live: true });
    await bus.stop();
    const down = await fetch(url);
    expect(down.status).toBe(503);
    expect(await down.json()).toMatchObject({ status: 'down', ready: false });
  });

  it('keeps a degraded process ready (200); the live probe fails only when a restart would help', async () => {
    let current = report('degraded', true);
    const check = async () => current;
    const ready = await serve(healthHandler(check));
    const live = await serve(healthHandler(check, { probe: 'live' }));
    expect((await fetch(ready)).status).toBe(200);
    expect((await fetch(live)).status).toBe(200);
    current = report('down', true);
    expect((await fetch(ready)).status).toBe(503);
    expect((await fetch(live)).status).toBe(200);
    current = report('down', false);
    expect((await fetch(live)).status).toBe(503);
  });

  it('answers HEAD without a body, and 503 when making the report throws', async () => {
    const url = await serve(
      healthHandler(async () => {
        throw new Error('check crashed');
      }),
    );
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(await head.text()).toBe('');
    const body = await (await fetch(url)).json();
    expect(body).toMatchObject({
      status: 'down',
      ready: false,
      checks: [{ name: 'health', message: 'check crashed' }],
    });
  });
});
