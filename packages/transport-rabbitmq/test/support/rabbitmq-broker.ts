import { execFile, execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const servicesScript = (name: string) => resolve(repoRoot, 'scripts/services', name);

/** The test broker (scripts/services up rabbitmq). */
export const brokerHost = process.env.EDAKIT_RABBITMQ_HOST ?? '127.0.0.1';
export const brokerPort = Number(process.env.EDAKIT_RABBITMQ_PORT ?? 5672);

/** The URL of the test broker in `vhost`; guest/guest is RabbitMQ's local default. */
export function brokerUrl(vhost: string): string {
  return `amqp://guest:guest@${brokerHost}:${brokerPort}/${encodeURIComponent(vhost)}`;
}

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (open: boolean) => {
      socket.destroy();
      done(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Runs a scripts/services command; throws with its output on failure. */
export function services(command: string, ...args: string[]): string {
  return execFileSync(servicesScript(command), args, {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: 'pipe',
  });
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
