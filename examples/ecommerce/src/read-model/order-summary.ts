import { type AnyEventContract, type ConsumedEvent, type HandlerBinding, on } from '@edakit/core';
import {
  InventoryReservationFailed,
  OrderCancelled,
  OrderCreated,
  OrderUpdated,
  PaymentFailed,
  PaymentProcessed,
  ShipmentCompleted,
  ShipmentStarted,
  ShipmentUpdated,
} from '../../contracts';

export interface OrderSummary {
  orderId: string;
  customerId: string;
  items: number;
  total: number;
  currency: string;
  status: 'placed' | 'processing' | 'shipped' | 'delivered' | 'cancelled';
  paymentId: string | null;
  shipment: { shipmentId: string; status: 'started' | 'in_transit' | 'delivered' } | null;
  problem: string | null;
  /**
   * The order's story: the event types applied, in the order they were
   * created (event ids are time-ordered UUIDv7s), whatever order they arrived in.
   */
  timeline: { id: string; type: string }[];
}

const RANK: Record<OrderSummary['status'], number> = {
  placed: 0,
  processing: 1,
  shipped: 2,
  delivered: 3,
  cancelled: 4,
};

/**
 * The order-summary read model (CQRS): one document per order, built only
 * from events, so it can be thrown away and rebuilt by replaying the log.
 * Events of one order arrive in order per channel but not across channels, so
 * a status only moves forward (from OrderUpdated or from the payment and
 * shipment facts, whichever comes first), and an event seen twice is applied once.
 */
export class OrderSummaryProjection {
  private readonly summaries = new Map<string, OrderSummary>();
  /** Events that arrived before their order's OrderCreated, applied when it comes. */
  private readonly early = new Map<string, ConsumedEvent<never>[]>();
  private readonly applied = new Set<string>();

  get(orderId: string): OrderSummary | undefined {
    const summary = this.summaries.get(orderId);
    return summary && structuredClone(summary);
  }

  list(): OrderSummary[] {
    return [...this.summaries.values()]
      .map((summary) => structuredClone(summary))
      .sort((a, b) => a.orderId.localeCompare(b.orderId));
  }

  get eventsApplied(): number {
    return this.applied.size;
  }

  /** The handlers that feed the projection; subscribe them under any group. */
  handlers(): HandlerBinding[] {
    return this.bindings;
  }

  /** Applies one event (as a handler would receive it), e.g. replayed from an archive. */
  apply(event: ConsumedEvent<AnyEventContract>): void {
    this.appliers.get(event.type)?.(event as ConsumedEvent<never>);
  }

  private readonly appliers = new Map<string, (event: ConsumedEvent<never>) => void>();
  private readonly bindings: HandlerBinding[] = this.build();

  private register<C extends AnyEventContract>(
    contract: C,
    apply: (event: ConsumedEvent<C>) => void,
  ): HandlerBinding<C> {
    this.appliers.set(contract.type, apply as (event: ConsumedEvent<never>) => void);
    return on(contract, apply);
  }

  private build(): HandlerBinding[] {
    return [
      this.register(OrderCreated, (event) => {
        if (!this.once(event)) return;
        const { orderId, customerId, lines, total, currency } = event.data;
        this.summaries.set(orderId, {
          orderId,
          customerId,
          items: lines.reduce((sum, line) => sum + line.quantity, 0),
          total,
          currency,
          status: 'placed',
          paymentId: null,
          shipment: null,
          problem: null,
          timeline: [{ id: event.id, type: event.type }],
        });
        for (const waiting of this.early.get(orderId) ?? []) this.apply(waiting);
        this.early.delete(orderId);
      }),
      this.about(OrderUpdated, (summary, event) => this.advance(summary, event.data.status)),
      // The failure events say what went wrong more precisely than the
      // cancellation: they win whichever arrives first.
      this.about(OrderCancelled, (summary, event) => {
        summary.status = 'cancelled';
        summary.problem ??= event.data.reason;
      }),
      this.about(PaymentProcessed, (summary, event) => {
        summary.paymentId = event.data.paymentId;
        this.advance(summary, 'processing');
      }),
      this.about(PaymentFailed, (summary, event) => {
        summary.problem = `payment failed: ${event.data.reason}`;
      }),
      this.about(InventoryReservationFailed, (summary, event) => {
        summary.problem = `out of stock: ${event.data.reason}`;
      }),
      this.about(ShipmentStarted, (summary, event) => {
        summary.shipment ??= { shipmentId: event.data.shipmentId, status: 'started' };
        this.advance(summary, 'shipped');
      }),
      this.about(ShipmentUpdated, (summary, event) => {
        summary.shipment = { shipmentId: event.data.shipmentId, status: event.data.status };
      }),
      this.about(ShipmentCompleted, (summary, event) => {
        summary.shipment = { shipmentId: event.data.shipmentId, status: 'delivered' };
        this.advance(summary, 'delivered');
      }),
    ];
  }

  private about<C extends AnyEventContract>(
    contract: C,
    apply: (summary: OrderSummary, event: ConsumedEvent<C>) => void,
  ): HandlerBinding<C> {
    const handle = (event: ConsumedEvent<C>) => {
      const { orderId } = event.data as { orderId: string };
      const summary = this.summaries.get(orderId);
      if (!summary) {
        // Seen before its order: keep it (in arrival order) until the order exists.
        const waiting = this.early.get(orderId) ?? [];
        if (!waiting.some((e) => e.id === event.id)) waiting.push(event as ConsumedEvent<never>);
        this.early.set(orderId, waiting);
        return;
      }
      if (!this.once(event)) return;
      apply(summary, event);
      summary.timeline.push({ id: event.id, type: event.type });
      summary.timeline.sort((a, b) => a.id.localeCompare(b.id));
    };
    return this.register(contract, handle);
  }

  private once(event: { id: string }): boolean {
    if (this.applied.has(event.id)) return false;
    this.applied.add(event.id);
    return true;
  }

  private advance(summary: OrderSummary, status: OrderSummary['status']): void {
    if (summary.status !== 'cancelled' && RANK[status] > RANK[summary.status])
      summary.status = status;
  }
}
