import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo';
import { KeyedQueue } from './keyed-queue';

describe('KeyedQueue', () => {
  it('never hands out two items of one key at once, and keeps their order', () => {
    const queue = new KeyedQueue<string>();
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    queue.push('b', 'b1');
    queue.push(undefined, 'x1');
    queue.push(undefined, 'x2');
    const first = queue.take();
    const second = queue.take();
    const third = queue.take();
    const fourth = queue.take();
    expect([first?.item, second?.item, third?.item, fourth?.item]).toEqual([
      'a1',
      'b1',
      'x1',
      'x2',
    ]);
    expect(queue.take()).toBeUndefined();
    expect(queue.size).toBe(1);
    expect(queue.inFlight).toBe(4);
    queue.done(first?.key as string);
    expect(queue.take()?.item).toBe('a2');
    queue.done('never-taken');
    expect(queue.inFlight).toBe(4);
  });

  it('puts an unhandled item back first in line', () => {
    const queue = new KeyedQueue<string>();
    queue.push('a', 'a1');
    queue.push('a', 'a2');
    queue.push('b', 'b1');
    const taken = queue.take();
    queue.putBack(taken?.key as string, taken?.item as string);
    expect([...queue.waiting()].sort()).toEqual(['a1', 'a2', 'b1']);
    expect(queue.take()?.item).toBe('a1');
  });
});

describe('Fifo', () => {
  it('shifts in order across compactions and accepts unshift', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 5000; i++) fifo.push(i);
    for (let i = 0; i < 3000; i++) expect(fifo.shift()).toBe(i);
    fifo.unshift(-1);
    expect(fifo.peek()).toBe(-1);
    expect(fifo.length).toBe(2001);
    expect(fifo.shift()).toBe(-1);
    expect([...fifo].slice(0, 2)).toEqual([3000, 3001]);
    while (fifo.length > 0) fifo.shift();
    expect(fifo.shift()).toBeUndefined();
    fifo.unshift(7);
    expect(fifo.peek()).toBe(7);
  });
});
