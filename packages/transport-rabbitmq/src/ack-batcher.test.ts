import type { Channel, Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batcher';

function setup() {
  const sent: string[] = [];
  const channel = {
    ack: (message: Message, multiple?: boolean) =>
      sent.push(`ack ${message.fields.deliveryTag}${multiple ? ' multiple' : ''}`),
    nack: (message: Message, _multiple?: boolean, requeue?: boolean) =>
      sent.push(`nack ${message.fields.deliveryTag}${requeue ? ' requeue' : ''}`),
  } as unknown as Channel;
  let open = true;
  const batcher = new AckBatcher(channel, () => open);
  const messages = Array.from(
    { length: 6 },
    (_, i) => ({ fields: { deliveryTag: i + 1 } }) as unknown as Message,
  );
  for (const message of messages) batcher.delivered(message);
  return { sent, batcher, messages, close: () => (open = false) };
}

const at = (list: Message[], index: number) => list[index] as Message;

describe('AckBatcher', () => {
  it('coalesces a run of settled deliveries from the oldest into one multiple ack', () => {
    const { sent, batcher, messages } = setup();
    for (const index of [2, 0, 1]) batcher.ack(at(messages, index));
    batcher.flush();
    expect(sent).toEqual(['ack 3 multiple']);
    expect(batcher.unsettled).toBe(3);
  });

  it('never covers a delivery that is still running: later ones go singly', () => {
    const { sent, batcher, messages } = setup();
    batcher.ack(at(messages, 0));
    batcher.ack(at(messages, 2));
    batcher.ack(at(messages, 4));
    batcher.flush();
    expect(sent).toEqual(['ack 1 multiple', 'ack 3', 'ack 5']);
    // Once the gap closes, the run continues without re-acking 3 or 5.
    batcher.ack(at(messages, 1));
    batcher.ack(at(messages, 3));
    batcher.flush();
    expect(sent.slice(3)).toEqual(['ack 4 multiple']);
    expect(batcher.unsettled).toBe(1);
  });

  it('nacks at once, and a nacked delivery is skipped by later multiple acks', () => {
    const { sent, batcher, messages } = setup();
    batcher.nack(at(messages, 0), true);
    expect(sent).toEqual(['nack 1 requeue']);
    batcher.ack(at(messages, 1));
    batcher.flush();
    expect(sent).toEqual(['nack 1 requeue', 'ack 2 multiple']);
  });

  it('settles a delivery once, and sends nothing on a closed channel', () => {
    const { sent, batcher, messages, close } = setup();
    batcher.ack(at(messages, 0));
    batcher.ack(at(messages, 0));
    batcher.nack(at(messages, 0), true);
    batcher.flush();
    expect(sent).toEqual(['ack 1 multiple']);
    close();
    batcher.ack(at(messages, 1));
    batcher.flush();
    expect(sent).toEqual(['ack 1 multiple']);
  });

  it('flushes on its own on the next turn of the event loop', async () => {
    const { sent, batcher, messages } = setup();
    batcher.ack(at(messages, 0));
    expect(sent).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(['ack 1 multiple']);
  });

  it('acks by tag behind a delivery that is still running, and keeps none of them', () => {
    const { sent, batcher, messages } = setup();
    const later = Array.from(
      { length: 10_000 },
      (_, i) => ({ fields: { deliveryTag: i + 7 } }) as unknown as Message,
    );
    // Delivery 1 runs for a long time; everything after it finishes, turn after turn.
    for (const message of [...messages.slice(1), ...later]) {
      batcher.delivered(message);
      batcher.ack(message);
      batcher.flush();
    }
    expect(sent).toHaveLength(5 + 10_000);
    expect(sent.every((line) => !line.includes('multiple'))).toBe(true);
    expect(sent.at(-1)).toBe('ack 10006');
    // Only the running delivery is held: memory does not grow with what finished behind it.
    expect(batcher.unsettled).toBe(1);
    expect(batcher.retained).toBe(1);
    batcher.ack(at(messages, 0));
    batcher.flush();
    expect(sent.at(-1)).toBe('ack 1 multiple');
    expect(batcher.retained).toBe(0);
  });
});
