import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, startHealthy, stopAll, testTransport, testUrl } from '../support/integration';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const buses: Bus[] = [];
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await stopAll(buses);
});

/**
 * The retry of a failed event is published (and confirmed) before the
 * original is acknowledged. A process SIGKILLed between the two leaves both:
 * the original comes back at once (unacked), the retry after its tier. At
 * most a duplicate, never a loss.
 */
it('a consumer killed between publishing a retry and acking the original loses nothing', async () => {
  const ns = namespace('rkill');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;

  let ready = false;
  let killedOn: string | undefined;
  let stderr = '';
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve(packageDir, 'test/fixtures/retry-then-die.ts'),
      testUrl(),
      ns,
      group,
    ],
    { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<NodeJS.Signals | number | null>((done) =>
    child?.once('exit', (code, signal) => done(signal ?? code)),
  );
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const [what, id] = line.split(' ');
    if (what === 'ready') ready = true;
    else if (what === 'kill') killedOn = id;
  });
  await waitFor(() => ready || child?.exitCode !== null, {
    timeoutMs: 60_000,
    intervalMs: 50,
    description: 'the child consumer to start',
  });
  expect(ready, `child failed to start: ${stderr}`).toBe(true);

  const publisher = createBus({ transport: testTransport(), source: '/it/rkill' });
  buses.push(publisher);
  const sent = await publisher.publishBatch(
    Array.from({ length: 3 }, (_, seq) => publisher.prepare(contract, { key: `k${seq}`, seq })),
  );
  expect(await exited).toBe('SIGKILL');
  expect(sent.map((envelope) => envelope.id)).toContain(killedOn);

  // A survivor in the same group gets the original (redelivered) and the retry (after 1 s).
  const attempts = new Map<string, number[]>();
  const survivor = createBus({ transport: testTransport(), source: '/it/rkill' });
  buses.push(survivor);
  survivor.subscribe({
    group,
    handlers: [
      on(contract, (event, context) => {
        attempts.set(event.id, [...(attempts.get(event.id) ?? []), context.attempt]);
      }),
    ],
  });
  await startHealthy(survivor);
  await waitFor(() => (attempts.get(killedOn as string)?.length ?? 0) >= 2 || undefined, {
    timeoutMs: 30_000,
    description: 'both copies of the event the child died on',
  });
  await waitFor(() => sent.every((envelope) => attempts.has(envelope.id)) || undefined, {
    timeoutMs: 30_000,
    description: 'every event handled by the survivor',
  });
  // The copy from the retry tier carries the failed attempt; the redelivered original does not.
  expect([...(attempts.get(killedOn as string) ?? [])].sort()).toEqual([1, 2]);
  for (const envelope of sent) {
    expect((attempts.get(envelope.id) ?? []).length).toBeGreaterThanOrEqual(1);
    expect((attempts.get(envelope.id) ?? []).length).toBeLessThanOrEqual(2);
  }
});
