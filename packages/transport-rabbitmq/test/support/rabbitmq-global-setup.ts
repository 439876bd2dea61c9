import type { TestProject } from 'vitest/node';
import { requireService } from '../../../../test-support/services';
import { brokerHost, brokerPort, rabbitmqctlSync } from './rabbitmq-broker';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The virtual host of this test run: every queue of the run, deleted at the end. */
    rabbitmqVhost: string;
  }
}

/**
 * The integration tests need the real broker. Start it (idempotent) when it is
 * not up; if that fails, stop with one line that says how to start it. Tests
 * never skip because the broker is down.
 *
 * Each run gets its own virtual host, so `close_all_connections` and the
 * run's queues never touch anyone else's, and one `delete_vhost` cleans up.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  await requireService('rabbitmq', brokerHost, brokerPort);
  const vhost = `edakit-test-${Date.now().toString(36)}-${process.pid}`;
  try {
    removeStaleVhosts();
    rabbitmqctlSync('add_vhost', vhost);
    rabbitmqctlSync('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  } catch (error) {
    throw new Error(
      `Could not create the test vhost with rabbitmqctl (run the tests as a user that may use rabbitmqctl, e.g. root): ${(error as Error).message.split('\n')[0]}`,
    );
  }
  project.provide('rabbitmqVhost', vhost);
  return () => {
    try {
      rabbitmqctlSync('delete_vhost', vhost);
    } catch {
      // Left for the next run's stale-vhost sweep.
    }
  };
}

/** Vhosts of earlier runs that died before their teardown, older than an hour. */
function removeStaleVhosts(): void {
  const names = rabbitmqctlSync('list_vhosts', '--quiet', '--no-table-headers').split('\n');
  for (const name of names.map((line) => line.trim())) {
    const match = /^edakit-test-([0-9a-z]+)-\d+$/.exec(name);
    if (!match?.[1]) continue;
    const created = Number.parseInt(match[1], 36);
    if (Date.now() - created > 60 * 60 * 1000) rabbitmqctlSync('delete_vhost', name);
  }
}
