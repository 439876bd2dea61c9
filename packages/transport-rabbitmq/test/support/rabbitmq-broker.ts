import { execFile, execFileSync, spawn } from 'node:child_process';

export { portOpen, repoRoot, services, servicesScript } from '../../../../test-support/services';

/** The test broker (scripts/services up rabbitmq). */
export const brokerHost = process.env.EDAKIT_RABBITMQ_HOST ?? '127.0.0.1';
export const brokerPort = Number(process.env.EDAKIT_RABBITMQ_PORT ?? 5672);

/** The URL of the test broker in `vhost`; guest/guest is RabbitMQ's local default. */
export function brokerUrl(vhost: string): string {
  return `amqp://guest:guest@${brokerHost}:${brokerPort}/${encodeURIComponent(vhost)}`;
}

/** `rabbitmqctl <args>` without blocking the event loop (consumers keep running). */
export function rabbitmqctl(...args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'rabbitmqctl',
      args,
      { encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`rabbitmqctl ${args.join(' ')} failed: ${stderr || stdout}`));
        else resolvePromise(stdout);
      },
    );
  });
}

export function rabbitmqctlSync(...args: string[]): string {
  return execFileSync('rabbitmqctl', args, { encoding: 'utf8', stdio: 'pipe', timeout: 60_000 });
}

/**
 * Runs `rabbitmqctl <args>` after `ms` from a detached shell, unless the
 * returned function is called first: the broker is put back even if this
 * test process dies (a killed worker skips its `finally`).
 */
export function rabbitmqctlLater(ms: number, ...args: string[]): () => void {
  const command = `sleep ${Math.ceil(ms / 1000)} && exec rabbitmqctl ${args.map((arg) => `'${arg}'`).join(' ')}`;
  const child = spawn('sh', ['-c', command], { detached: true, stdio: 'ignore' });
  child.unref();
  return () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already ran (or gone).
    }
  };
}

/**
 * Raises RabbitMQ's memory alarm (watermark near zero) and waits until the
 * node has it: the broker then blocks every connection that publishes, on the
 * whole node (a connection is told `connection.blocked` at its next publish).
 * Returns what restores the watermark it found; call it in a `finally`, and
 * keep the alarm short. A watchdog restores it after `maxMs` regardless.
 */
export async function raiseMemoryAlarm(maxMs = 60_000): Promise<() => Promise<void>> {
  const current = (
    await rabbitmqctl('eval', 'vm_memory_monitor:get_vm_memory_high_watermark().')
  ).trim();
  const absolute = /^\{absolute,\s*(\d+)\}$/.exec(current);
  if (!absolute && !/^\d+(\.\d+)?$/.test(current)) {
    throw new Error(`unexpected memory high watermark "${current}": not raising the alarm`);
  }
  const restoreArgs = absolute ? ['absolute', absolute[1] as string] : [current];
  const cancelWatchdog = rabbitmqctlLater(maxMs, 'set_vm_memory_high_watermark', ...restoreArgs);
  const restore = async () => {
    await rabbitmqctl('set_vm_memory_high_watermark', ...restoreArgs);
    cancelWatchdog();
  };
  try {
    await rabbitmqctl('set_vm_memory_high_watermark', '0.0000001');
    for (let waited = 0; ; waited += 100) {
      const alarms = await rabbitmqctl('eval', 'rabbit_alarm:get_alarms().');
      if (alarms.includes('memory')) break;
      if (waited > 10_000) throw new Error(`the memory alarm did not go off: ${alarms}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await restore();
    throw error;
  }
  return restore;
}
