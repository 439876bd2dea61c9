import { execFile, execFileSync } from 'node:child_process';

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
