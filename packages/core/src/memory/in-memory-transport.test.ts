import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createBus } from '../bus/create-bus';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { on } from '../handler/handler';
import { waitFor } from '../testing/wait-for';
import { InMemoryTransport } from './in-memory-transport';
import { MemoryBroker } from './memory-broker';

const Added = defineEvent({
  type: 'cart.added',
  schema: z.object({ sku: z.string() }),
  description: 'x',
});

describe('InMemoryTransport', () => {
  it('replays the channel log to a new group that starts from the earliest', async () => {
    const broker = new MemoryBroker();
    const producer = createBus({ transport: new InMemoryTransport({ broker }), source: '/p' });
    await producer.publish(Added, { sku: 'a' });
    await producer.publish(Added, { sku: 'b' });
    const seen: Record<string, string[]> = { replay: [], live: [] };
    for (const group of ['replay', 'live'] as const) {
      const bus = createBus({ transport: new InMemoryTransport({ broker }), source: '/c' });
      bus.subscribe({
        group,
        startFrom: group === 'replay' ? 'earliest' : 'latest',
        handlers: [on(Added, (event) => void seen[group]?.push(event.data.sku))],
      });
      await bus.start();
    }
    await producer.publish(Added, { sku: 'c' });
    await waitFor(() => seen.replay?.length === 3 && seen.live?.length === 1);
    expect(seen).toEqual({ replay: ['a', 'b', 'c'], live: ['c'] });
  });

  it('keeps at most `retention` messages per channel', async () => {
    const broker = new MemoryBroker({ retention: 2 });
    const producer = createBus({ transport: new InMemoryTransport({ broker }), source: '/p' });
    for (const sku of ['a', 'b', 'c']) await producer.publish(Added, { sku });
    const seen: string[] = [];
    const bus = createBus({ transport: new InMemoryTransport({ broker }), source: '/c' });
    bus.subscribe({
      group: 'g',
      startFrom: 'earliest',
      handlers: [on(Added, (event) => void seen.push(event.data.sku))],
    });
    await bus.start();
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['b', 'c']);
  });

  it('refuses to redrive an unknown dead letter, moving nothing', async () => {
    const transport = new InMemoryTransport();
    const bus = createBus({ transport, source: '/s', closeTransportOnStop: false });
    bus.subscribe({
      group: 'g',
      retry: { immediate: 0, delayed: [] },
      handlers: [
        on(Added, () => {
          throw new Error('x');
        }),
      ],
    });
    await bus.start();
    await bus.publish(Added, { sku: 'a' });
    const [deadLetter] = await waitFor(async () => {
      const list = await transport.listDeadLetters({ group: 'g', limit: 1 });
      return list.length > 0 ? list : undefined;
    });
    await expect(
      transport.redriveDeadLetters({ group: 'g', ids: [deadLetter?.id ?? '', 'dl-missing'] }),
    ).rejects.toMatchObject({
      code: ErrorCodes.DEAD_LETTER_NOT_FOUND,
      context: expect.objectContaining({ eventId: 'dl-missing', group: 'g' }),
    });
    expect(await transport.listDeadLetters({ group: 'g' })).toHaveLength(1);
    expect(await transport.listDeadLetters({ group: 'nobody' })).toEqual([]);
    expect(await transport.listDeadLetters({ group: 'g', channel: 'other' })).toEqual([]);
    await expect(
      transport.redriveDeadLetters({ group: 'nobody', ids: ['dl-1'] }),
    ).rejects.toMatchObject({
      code: ErrorCodes.DEAD_LETTER_NOT_FOUND,
    });
    expect(await transport.redriveDeadLetters({ group: 'nobody' })).toBe(0);
    await bus.stop();
    expect((await transport.health()).details).toMatchObject({
      groups: { g: { deadLetters: 1, members: 0 } },
    });
  });

  it('rejects messages without a channel and every call after close', async () => {
    const transport = new InMemoryTransport();
    await expect(
      transport.publish([
        { channel: '', type: 't', message: { headers: {}, body: new Uint8Array() } },
      ]),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_OPTIONS });
    await transport.close();
    await expect(transport.connect()).rejects.toMatchObject({ code: ErrorCodes.TRANSPORT_CLOSED });
    await expect(transport.redriveDeadLetters({ group: 'g' })).rejects.toMatchObject({
      code: ErrorCodes.TRANSPORT_CLOSED,
    });
  });
});
