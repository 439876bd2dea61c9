import { defineEvent } from '@edakit/core';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createSagaRuntime, defineSaga, reply, type SagaDefinition, send } from '../index';

const Started = defineEvent({
  type: 'typed.started',
  version: 1,
  description: 'start',
  schema: z.object({ orderId: z.string(), total: z.number() }),
});
const Charge = defineEvent({
  type: 'typed.charge',
  version: 1,
  description: 'command',
  schema: z.object({ orderId: z.string(), amount: z.number() }),
});
const Charged = defineEvent({
  type: 'typed.charged',
  version: 1,
  description: 'reply',
  schema: z.object({ paymentId: z.string() }),
});

describe('defineSaga types', () => {
  it('infers the saga data from `initial` and types every builder with it', () => {
    const saga = defineSaga({
      name: 'typed',
      startedBy: Started,
      correlate: (event) => {
        expectTypeOf(event.data).toEqualTypeOf<{ orderId: string; total: number }>();
        return event.data.orderId;
      },
      initial: (event) => ({ orderId: event.data.orderId, total: event.data.total, paid: '' }),
    }).step('charge', {
      command: send(Charge, (order) => {
        expectTypeOf(order).toEqualTypeOf<{ orderId: string; total: number; paid: string }>();
        return { orderId: order.orderId, amount: order.total };
      }),
      success: reply(Charged, {
        update: (order, charged) => {
          expectTypeOf(charged.data).toEqualTypeOf<{ paymentId: string }>();
          return { ...order, paid: charged.data.paymentId };
        },
      }),
    });
    expectTypeOf(saga).toEqualTypeOf<
      SagaDefinition<{ orderId: string; total: number; paid: string }>
    >();
  });

  it('rejects a command whose data does not fit its contract', () => {
    defineSaga({
      name: 'typed',
      startedBy: Started,
      correlate: (event) => event.data.orderId,
      initial: (event) => ({ orderId: event.data.orderId }),
    }).step('charge', {
      // @ts-expect-error amount is missing from the command's data
      command: send(Charge, (order) => ({ orderId: order.orderId })),
      success: reply(Charged),
    });
  });

  it('rejects a reply update that returns another shape', () => {
    defineSaga({
      name: 'typed',
      startedBy: Started,
      correlate: (event) => event.data.orderId,
      initial: (event) => ({ orderId: event.data.orderId }),
    }).step('charge', {
      command: send(Charge, (order) => ({ orderId: order.orderId, amount: 1 })),
      // @ts-expect-error update must return the saga's data
      success: reply(Charged, { update: () => ({ nope: true }) }),
    });
  });

  it('lets one runtime hold sagas of different data types', () => {
    const a = defineSaga({
      name: 'a',
      startedBy: Started,
      correlate: (e) => e.data.orderId,
      initial: () => ({ a: 1 }),
    });
    const b = defineSaga({
      name: 'b',
      startedBy: Started,
      correlate: (e) => e.data.orderId,
      initial: () => 'b',
    });
    expectTypeOf(createSagaRuntime)
      .parameter(0)
      .toHaveProperty('sagas')
      .toExtend<readonly SagaDefinition<unknown>[]>();
    expectTypeOf([a, b]).toExtend<readonly SagaDefinition<unknown>[]>();
  });
});
