// From node:timers, not the global: fake timers in a user's tests replace the
// global, and commands must still go out.
import { setImmediate as nextTurn } from 'node:timers';
import type { OutgoingMessage } from '@edakit/core';
import type { Publisher } from '@edakit/outbox';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Publishes the messages handed to it in one turn of the event loop with one
 * transport call, in the order they came: a broker round trip for a burst of
 * transitions instead of one each. Each caller learns the outcome of the call
 * its messages went out with.
 */
export class TurnPublisher {
  private messages: OutgoingMessage[] = [];
  private waiters: Waiter[] = [];

  constructor(private readonly transport: Publisher) {}

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.waiters.length === 0) nextTurn(() => void this.flush());
      for (const message of messages) this.messages.push(message);
      this.waiters.push({ resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const { messages, waiters } = this;
    this.messages = [];
    this.waiters = [];
    try {
      await this.transport.publish(messages);
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  }
}
