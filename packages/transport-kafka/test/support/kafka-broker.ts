import { execFile, execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const servicesScript = (name: string) => resolve(repoRoot, 'scripts/services', name);

/** The single test broker (scripts/services up kafka). */
export const brokers = (process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const saslBroker = process.env.EDAKIT_KAFKA_SASL_BROKER ?? '127.0.0.1:9094';
export const clusterBrokers = ['127.0.0.1:19092', '127.0.0.1:29092', '127.0.0.1:39092'];

export function portOpen(address: string, timeoutMs = 1000): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((done) => {
    const socket = createConnection({ host, port: Number(port) });
    const finish = (open: boolean) => {
      socket.destroy();
      done(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Runs a scripts/services command and returns its output; throws with it on failure. */
export function services(command: string, ...args: string[]): string {
  return execFileSync(servicesScript(command), args, {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: 'pipe',
  });
}

/**
 * Like `services`, without blocking the event loop: producers, consumers and
 * heartbeats keep running while a broker is killed or started.
 */
export function servicesAsync(command: string, ...args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      servicesScript(command),
      args,
      { cwd: repoRoot, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || stdout}`));
        else resolvePromise(stdout);
      },
    );
  });
}
