import type { PreparedEvent } from '@edakit/core';
import { MemoryOutbox } from '@edakit/outbox';
import type { OrderRecord, OrderRepository, OrderState } from './order-record';

/** Orders in memory, with the memory outbox: the embedded default. */
export class MemoryOrderRepository implements OrderRepository {
  readonly outbox = new MemoryOutbox();
  readonly commits = this.outbox.commits;
  private readonly orders = new Map<string, OrderRecord>();

  async place(order: OrderRecord, events: readonly PreparedEvent[]): Promise<void> {
    this.orders.set(order.orderId, structuredClone(order));
    this.outbox.add(events);
  }

  async move(
    orderId: string,
    from: readonly OrderState[],
    to: OrderState,
    events: (order: OrderRecord) => readonly PreparedEvent[],
    reason?: string,
  ): Promise<OrderRecord | undefined> {
    const order = this.orders.get(orderId);
    if (!order || !from.includes(order.status)) return undefined;
    const moved = { ...order, status: to, ...(reason === undefined ? {} : { reason }) };
    const prepared = events(moved);
    this.orders.set(orderId, moved);
    this.outbox.add(prepared);
    return structuredClone(moved);
  }

  async get(orderId: string): Promise<OrderRecord | undefined> {
    const order = this.orders.get(orderId);
    return order && structuredClone(order);
  }

  async list(limit: number): Promise<OrderRecord[]> {
    return [...this.orders.values()].slice(-limit).map((order) => structuredClone(order));
  }

  async close(): Promise<void> {}
}
