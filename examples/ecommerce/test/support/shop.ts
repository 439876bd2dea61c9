import { randomUUID } from 'node:crypto';
import type { Transport } from '@edakit/core';
import { ShopClient } from '../../src/client';
import { type Config, readConfig } from '../../src/platform/config';
import { type Host, startHost } from '../../src/platform/host';
import { SERVICES, type ServiceName } from '../../src/services';

export interface TestShop {
  readonly host: Host;
  readonly shop: ShopClient;
  readonly config: Config;
  stop(): Promise<void>;
}

/** A namespace per test run: topics, queues, tables and keys of one run never meet another's. */
export const testNamespace = (): string => `t${randomUUID().replaceAll('-', '').slice(0, 10)}`;

/** Starts services in this process on a free port (all of them unless named). */
export async function startShop(
  env: Record<string, string> = {},
  names: readonly ServiceName[] = Object.keys(SERVICES) as ServiceName[],
  transport?: Transport,
): Promise<TestShop> {
  const config = readConfig({ SHOP_NAMESPACE: testNamespace(), ...env, PORT: '0' });
  const services = Object.fromEntries(names.map((name) => [name, SERVICES[name]]));
  const host = await startHost({ config, services, ...(transport ? { transport } : {}) });
  return { host, shop: new ShopClient(host.http.url), config, stop: () => host.stop() };
}
