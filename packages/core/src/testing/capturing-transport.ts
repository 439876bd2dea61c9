import type {
  OutgoingMessage,
  Transport,
  TransportConsumer,
  TransportHealth,
  TransportSubscription,
} from '../transport/transport';

/**
 * Wraps a transport and records every message published through it, in order.
 * Works with any transport: use it to assert what a service emitted.
 */
export class CapturingTransport implements Transport {
  readonly captured: OutgoingMessage[] = [];

  constructor(readonly inner: Transport) {}

  get name(): string {
    return this.inner.name;
  }

  get headerNaming() {
    return this.inner.headerNaming;
  }

  get contentMode() {
    return this.inner.contentMode;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    await this.inner.publish(messages);
    this.captured.push(...messages);
  }

  subscribe(subscription: TransportSubscription): Promise<TransportConsumer> {
    return this.inner.subscribe(subscription);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  health(): Promise<TransportHealth> {
    return this.inner.health();
  }
}
