import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import type { NodeHttpHandler } from '../health/health-handler';
import { InMemoryTransport } from '../memory/in-memory-transport';
import { metricsHandler } from './metrics-handler';
import { prometheusMetrics } from './prometheus-metrics';

const Pinged = defineEvent({ type: 'ping.sent', schema: z.object({}), description: 'ping' });

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
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

it('serves the registry in the Prometheus text format', async () => {
  const registry = new Registry();
  const bus = createBus({ transport: new InMemoryTransport(), source: '/services/ping' });
  const metrics = prometheusMetrics({ registry, buses: [bus] });
  await bus.publish(Pinged, {});
  const response = await fetch(await serve(metricsHandler(registry)));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(registry.contentType);
  const text = await response.text();
  expect(text).toContain('# TYPE edakit_events_published_total counter');
  expect(text).toContain('edakit_events_published_total{type="ping.sent",status="ok"} 1');
  expect(text).toContain('edakit_bus_up{bus="/services/ping"} 0'); // never started
  const head = await fetch(await serve(metricsHandler(registry)), { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');
  metrics.close();
});

it('answers 500 with the reason when collecting fails', async () => {
  const registry = new Registry();
  registry.metrics = async () => {
    throw new Error('collector broke');
  };
  const response = await fetch(await serve(metricsHandler(registry)));
  expect(response.status).toBe(500);
  expect(await response.text()).toContain('collector broke');
});
