import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, startHealthy, stopAll } from '../support/integration';
import { testTransport } from '../support/kafka-factory';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const buses: Bus[] = [];
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  await stopAll(buses);
});

const EVENTS = 400;
const KEYS = 40;

/**
 * A member of the group dies with SIGKILL in the middle of its batches (slow
 * handlers, 4 at a time, offsets not committed). Another member of the group
 * gets its partitions and handles everything the dead one had not finished.
 */
it('hands the unfinished events of a SIGKILLed consumer process to the surviving member', async () => {
  const ns = namespace('sigkill');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;

  // The child: a consumer of the group in its own process.
  const started = new Set<string>();
  const childDone = new Set<string>();
  let ready = false;
  let stderr = '';
  child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(packageDir, 'test/fixtures/slow-consumer.ts'), ns, group],
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
    else if (what === 'start' && id) started.add(id);
    else if (what === 'done' && id) childDone.add(id);
  });
  await waitFor(() => ready || child?.exitCode !== null, {
    timeoutMs: 60_000,
    intervalMs: 50,
    description: 'the child consumer to join',
  });
  expect(ready, `child failed to start: ${stderr}`).toBe(true);

  // 400 events over 40 keys (every partition); the child needs ~5 s for them.
  const publisher = createBus({ transport: testTransport(), source: '/it/sigkill' });
  buses.push(publisher);
  const envelopes = await publisher.publishBatch(
    Array.from({ length: EVENTS }, (_, seq) =>
      publisher.prepare(contract, { key: `key-${seq % KEYS}`, seq }),
    ),
  );
  const published = new Set(envelopes.map((envelope) => envelope.id));

  // Kill it mid-run: some events done, some in its handlers right now.
  await waitFor(() => childDone.size >= 60, {
    timeoutMs: 30_000,
    intervalMs: 5,
    description: 'the child to finish 60 events',
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  const doneBeforeKill = new Set(childDone);
  const inFlightAtKill = [...started].filter((id) => !doneBeforeKill.has(id));

  // The survivor joins the same group; it gets the partitions once the dead
  // member's session (6 s) expires.
  const survivorHandled = new Map<string, number>();
  const survivor = createBus({ transport: testTransport(), source: '/it/sigkill' });
  buses.push(survivor);
  survivor.subscribe({
    group,
    // Same settings as the child: the group may have committed nothing yet.
    startFrom: 'earliest',
    concurrency: 4,
    handlers: [
      on(contract, (event) => {
        survivorHandled.set(event.id, (survivorHandled.get(event.id) ?? 0) + 1);
      }),
    ],
  });
  await startHealthy(survivor);
  const missing = () =>
    [...published].filter((id) => !survivorHandled.has(id) && !doneBeforeKill.has(id));
  await waitFor(() => missing().length === 0, {
    timeoutMs: 60_000,
    intervalMs: 50,
    description: 'every event handled by the survivor or done by the child',
  }).catch(() => undefined);

  const redone = [...doneBeforeKill].filter((id) => survivorHandled.has(id)).length;
  console.log(
    `sigkill: child finished ${doneBeforeKill.size} of ${EVENTS}, ${inFlightAtKill.length} in its handlers at the kill; ` +
      `survivor handled ${survivorHandled.size} (${redone} of them already done by the child: at-least-once redelivery)`,
  );
  // Nothing lost.
  expect(missing()).toEqual([]);
  // The kill really was mid-run: work done, work in flight, work left.
  expect(doneBeforeKill.size).toBeGreaterThanOrEqual(60);
  expect(doneBeforeKill.size).toBeLessThan(EVENTS);
  expect(inFlightAtKill.length).toBeGreaterThan(0);
  // What the child was running when it died reached the survivor.
  for (const id of inFlightAtKill) expect(survivorHandled.has(id), id).toBe(true);
  // Only published events, each at most once by the survivor itself.
  for (const [id, count] of survivorHandled) {
    expect(published.has(id)).toBe(true);
    expect(count, id).toBe(1);
  }
});
