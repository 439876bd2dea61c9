import { describe, expect, it } from 'vitest';
import { toMermaid } from '../../src';
import { OrderSaga } from '../support/order-saga';

describe('toMermaid', () => {
  it('draws the order saga: steps, replies, timeouts and compensations in sending order', () => {
    expect(toMermaid(OrderSaga)).toBe(`stateDiagram-v2
  %% saga "order" v1
  [*] --> reserve_inventory: order.created
  reserve_inventory: reserve-inventory\\nsends inventory.reserve
  reserve_inventory --> charge_payment: inventory.reserved
  reserve_inventory --> compensating: inventory.reservation-failed / timeout 5000 ms
  charge_payment: charge-payment\\nsends payment.charge
  charge_payment --> create_shipment: payment.charged
  charge_payment --> compensating: payment.failed / timeout 5000 ms
  create_shipment: create-shipment\\nsends shipping.create
  create_shipment --> completed: shipping.created
  create_shipment --> compensating: timeout 2000 ms
  compensating --> compensated: shipping.cancel, payment.refund, inventory.release
  completed --> [*]: sends order.confirmed
  compensated --> [*]: sends order.cancelled
`);
  });
});
