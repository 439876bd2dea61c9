import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The example's directory: `npm run service` runs `node --import tsx src/service.ts` from there. */
const EXAMPLE_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface ServiceProcess {
  readonly names: readonly string[];
  readonly pid: number;
  /** Base URL of its HTTP server, from its ready line. */
  readonly url: string;
  /** Everything it wrote so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`: how it ended. Idempotent. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launch(args: readonly string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/service.ts', ...args], {
    cwd: EXAMPLE_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `npm run service -- <args>` to its end: exit code and output (for refusals). */
export function runService(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = launch(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** How to stop every process started here and not ended yet, ready or still starting. */
const running = new Set<() => Promise<unknown>>();

/**
 * Starts `npm run service -- <names>` (a free port unless PORT is given) and
 * resolves with its URL once it printed its ready line; rejects with its
 * output if it exits or is not ready within `timeoutMs`.
 */
export function startServiceProcess(
  names: readonly string[],
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<ServiceProcess> {
  const child = launch(names, { PORT: '0', ...env });
  let output = '';
  let ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const stop = (graceMs = 15_000) => {
    ended ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        return result;
      }
      return exited;
    })();
    return ended;
  };
  running.add(stop);
  child.on('exit', () => running.delete(stop));

  return new Promise((resolve, reject) => {
    let started: ServiceProcess | undefined;
    const fail = (why: string) => {
      if (started) return;
      clearTimeout(timer);
      void stop(1_000);
      reject(new Error(`service ${names.join(',')} ${why}; output:\n${output}`));
    };
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs);
    child.on('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
    child.stdout?.on('data', () => {
      const ready = /^ready (\S+) on (http:\/\/\S+)/m.exec(output);
      if (started || !ready) return;
      clearTimeout(timer);
      started = {
        names,
        pid: child.pid as number,
        url: ready[2] as string,
        output: () => output,
        stop,
      };
      resolve(started);
    });
  });
}

/** Stops every process started here that is still running, ready or not (for afterAll). */
export async function stopServiceProcesses(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
}
