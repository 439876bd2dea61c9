import { waitFor } from '@edakit/core/testing';
import { afterEach, expect, it } from 'vitest';
import { namespace, rawConnection, testTransport } from '../support/integration';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/**
 * Two copies of one event in a DLQ (RabbitMQ dead-lettered it twice: no
 * edakit dead-letter id, same message id) are two dead letters with two ids;
 * a redrive that names one id twice moves that one message once.
 */
it('gives two copies of one event distinct ids and redrives a repeated id once', async () => {
  const group = namespace('dlids');
  const type = `${group}.happened`;
  const raw = await rawConnection();
  cleanups.push(() => raw.close());
  const channel = await raw.createConfirmChannel();
  await channel.assertQueue(group, { durable: true });
  await channel.assertQueue(`${group}.dlq`, { durable: true });
  const headers = {
    cloudEvents_specversion: '1.0',
    cloudEvents_id: 'same-event',
    cloudEvents_source: '/raw',
    cloudEvents_type: type,
    cloudEvents_partitionkey: 'k',
    'x-first-death-reason': 'delivery_limit',
    'x-first-death-queue': group,
  };
  for (const copy of [1, 2]) {
    channel.sendToQueue(`${group}.dlq`, Buffer.from(JSON.stringify({ key: 'k', copy })), {
      persistent: true,
      messageId: 'same-event',
      type,
      headers,
    });
  }
  await channel.waitForConfirms();

  const transport = testTransport();
  cleanups.push(() => transport.close());
  const listed = await transport.listDeadLetters({ group });
  expect(listed).toHaveLength(2);
  const ids = listed.map((deadLetter) => deadLetter.id);
  expect(new Set(ids).size).toBe(2);
  expect(ids).toEqual(['same-event', 'same-event#2']);

  const first = ids[0] as string;
  await expect(transport.redriveDeadLetters({ group, ids: [first, first] })).resolves.toBe(1);

  const moved = await waitFor(
    async () => {
      const { messageCount } = await channel.checkQueue(group);
      return messageCount >= 1 ? messageCount : undefined;
    },
    { timeoutMs: 5_000, description: 'the redriven message' },
  );
  // Give a duplicate publish the chance to show.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect((await channel.checkQueue(group)).messageCount).toBe(moved);
  expect(moved).toBe(1);
  const left = await transport.listDeadLetters({ group });
  // The second copy stayed; alone now, it has the plain id.
  expect(left.map((deadLetter) => deadLetter.id)).toEqual(['same-event']);
  expect(Buffer.from(left[0]?.message.body ?? '').toString()).toContain('"copy":2');
});
