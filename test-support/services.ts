import { execFile, execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { repoRoot } from './readme-example';

export { repoRoot };

export const servicesScript = (name: string) => resolve(repoRoot, 'scripts/services', name);

/** True when something accepts TCP connections at host:port. */
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

/** The same, without blocking the event loop (consumers keep running meanwhile). */
export function servicesAsync(command: string, ...args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      servicesScript(command),
      args,
      { cwd: repoRoot, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error)
          fail(
            new Error(
              `scripts/services/${command} ${args.join(' ')} failed: ${stderr || error.message}`,
            ),
          );
        else done(stdout);
      },
    );
  });
}

/**
 * Global-setup helper: if nothing listens at host:port, start the service with
 * scripts/services; if that fails, stop the run with one line saying how to
 * start it. Tests never skip because a service is down.
 */
export async function requireService(name: string, host: string, port: number): Promise<void> {
  if (await portOpen(host, port)) return;
  try {
    services('up', name);
  } catch (error) {
    const output = ((error as { stderr?: string }).stderr ?? '').trim().split('\n').pop() ?? '';
    throw new Error(
      `${name} is not reachable at ${host}:${port} and could not be started: run "scripts/services/up ${name}" (${output})`,
    );
  }
}
