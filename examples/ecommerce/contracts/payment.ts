import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { byOrder, currency, id, money } from './fields';

export const ChargePayment = defineEvent({
  type: 'payment.charge',
  description: 'Command (order saga): charge the customer for an order.',
  schema: z.object({ orderId: id, customerId: id, amount: money, currency }),
  partitionKey: byOrder,
});

export const PaymentProcessed = defineEvent({
  type: 'payment.processed',
  description: 'A payment went through (the reply to payment.charge).',
  schema: z.object({ orderId: id, paymentId: id, amount: money, currency }),
  partitionKey: byOrder,
});

export const PaymentFailed = defineEvent({
  type: 'payment.failed',
  description: 'A payment was declined (the reply to payment.charge).',
  schema: z.object({ orderId: id, reason: z.string().min(1) }),
  partitionKey: byOrder,
});

export const RefundPayment = defineEvent({
  type: 'payment.refund',
  description: 'Command (order saga, compensation): refund the payment of an order.',
  schema: z.object({ orderId: id, paymentId: id }),
  partitionKey: byOrder,
});
