import { on } from '@edakit/core';
import { ChargePayment, PaymentFailed, PaymentProcessed, RefundPayment } from '../../../contracts';
import { HttpError } from '../../platform/http';
import type { Service, ServiceDeps } from '../../platform/service';

export interface Payment {
  orderId: string;
  paymentId?: string;
  amount: number;
  currency: string;
  status: 'charged' | 'declined' | 'refunded';
  reason?: string;
}

/**
 * Charges and refunds orders for the saga. The demo's card processor declines
 * amounts over PAYMENT_LIMIT, and the next charge after POST /payment/fail-next.
 */
export function paymentService({ bus, config }: ServiceDeps): Service {
  const payments = new Map<string, Payment>();
  let failNext = false;

  return {
    name: 'payment',
    async start() {
      bus.subscribe({
        group: 'payment',
        handlers: [
          on(ChargePayment, async (command, ctx) => {
            const { orderId, amount, currency } = command.data;
            let payment = payments.get(orderId);
            // Charged once per order: a redelivered command gets the same answer.
            if (!payment) {
              const reason =
                amount > config.PAYMENT_LIMIT
                  ? `amount ${amount} ${currency} is over the card limit`
                  : failNext
                    ? 'card declined'
                    : undefined;
              failNext = false;
              payment =
                reason === undefined
                  ? { orderId, paymentId: `pay-${orderId}`, amount, currency, status: 'charged' }
                  : { orderId, amount, currency, status: 'declined', reason };
              payments.set(orderId, payment);
            }
            if (payment.paymentId !== undefined && payment.status !== 'declined') {
              await ctx.publish(PaymentProcessed, {
                orderId,
                paymentId: payment.paymentId,
                amount,
                currency,
              });
            } else {
              ctx.logger.warn(
                { orderId, amount, currency, reason: payment.reason },
                'payment declined',
              );
              await ctx.publish(PaymentFailed, { orderId, reason: payment.reason ?? 'declined' });
            }
          }),
          on(RefundPayment, (command) => {
            const payment = payments.get(command.data.orderId);
            if (payment?.status === 'charged') payment.status = 'refunded';
          }),
        ],
      });
    },
    async stop() {},
    routes: [
      {
        method: 'POST',
        path: '/payment/fail-next',
        async handle() {
          failNext = true;
          return { json: { failNext } };
        },
      },
      {
        method: 'GET',
        path: '/payment/:orderId',
        async handle({ params }) {
          const payment = payments.get(params.orderId as string);
          if (!payment)
            throw new HttpError(404, 'UNKNOWN_PAYMENT', `No payment for ${params.orderId}`);
          return { json: payment };
        },
      },
    ],
  };
}
