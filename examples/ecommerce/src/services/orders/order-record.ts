import type { PreparedEvent } from '@edakit/core';
import type { OutboxStore, WakeSource } from '@edakit/outbox';

export type OrderState = 'pending' | 'processing' | 'shipped' | 'delivered' | 'cancelled';

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPrice: number;
}

export interface OrderRecord {
  orderId: string;
  customerId: string;
  lines: OrderLine[];
  total: number;
  currency: string;
  status: OrderState;
  reason?: string | undefined;
  placedAt: string;
}

/**
 * Where the orders service keeps its orders. Every write stores the change
 * and the events that announce it together (the outbox): an order is never
 * changed without its event, nor an event sent for a change that was lost.
 */
export interface OrderRepository {
  readonly outbox: OutboxStore;
  readonly commits: WakeSource;
  place(order: OrderRecord, events: readonly PreparedEvent[]): Promise<void>;
  /**
   * Moves an order to `to` when its status is one of `from`, with the events
   * built for it; undefined (nothing written) otherwise, e.g. for a repeat.
   */
  move(
    orderId: string,
    from: readonly OrderState[],
    to: OrderState,
    events: (order: OrderRecord) => readonly PreparedEvent[],
    reason?: string,
  ): Promise<OrderRecord | undefined>;
  get(orderId: string): Promise<OrderRecord | undefined>;
  list(limit: number): Promise<OrderRecord[]>;
  close(): Promise<void>;
}
