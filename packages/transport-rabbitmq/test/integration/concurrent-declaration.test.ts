import { type Bus, createBus, on } from '@edakit/core';
import { conformanceContract, Tally, waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { capturingLogger, namespace, stopAll, testTransport } from '../support/integration';

const buses: Bus[] = [];
afterEach(() => stopAll(buses));

/** Declaration is idempotent: instances that start together all succeed, with no channel error. */
it('lets four instances of a group declare the same topology at the same moment', async () => {
  const ns = namespace('together');
  const contract = conformanceContract(ns);
  const group = `${ns}-g`;
  const logger = capturingLogger();
  const tally = new Tally();
  const members = Array.from({ length: 4 }, () =>
    createBus({ transport: testTransport({ logger }), source: '/it/together' }),
  );
  buses.push(...members);
  for (const bus of members) {
    bus.subscribe({ group, handlers: [on(contract, (event) => tally.add(event.id))] });
  }
  await Promise.all(members.map((bus) => bus.start()));
  const publisher = members[0] as Bus;
  const sent = await publisher.publishBatch(
    Array.from({ length: 100 }, (_, seq) => publisher.prepare(contract, { key: `k${seq}`, seq })),
  );
  await waitFor(() => tally.distinct === sent.length || undefined, { description: '100 events' });
  expect(tally.total).toBe(100);
  expect(
    logger.entries.filter((entry) => entry.level !== 'debug' && entry.level !== 'info'),
  ).toEqual([]);
});
