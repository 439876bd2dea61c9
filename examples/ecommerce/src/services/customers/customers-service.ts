import { randomUUID } from 'node:crypto';
import { on } from '@edakit/core';
import {
  CustomerCreated,
  CustomerDeleted,
  CustomerUpdated,
  OrderCreated,
} from '../../../contracts';
import { HttpError, parseBody } from '../../platform/http';
import type { Service, ServiceDeps } from '../../platform/service';

export interface Customer {
  customerId: string;
  name: string;
  email: string;
  /** Orders placed, oldest first, from OrderCreated. */
  purchases: { orderId: string; total: number; currency: string; at: string }[];
}

const NewCustomer = CustomerCreated.schema.extend({
  customerId: CustomerCreated.schema.shape.customerId.optional(),
});
const CustomerChange = CustomerUpdated.schema.omit({ customerId: true });

/** Customer accounts, and each customer's purchase history. */
export function customersService({ bus }: ServiceDeps): Service {
  const customers = new Map<string, Customer>();
  const find = (customerId: string): Customer => {
    const customer = customers.get(customerId);
    if (!customer) throw new HttpError(404, 'UNKNOWN_CUSTOMER', `No customer ${customerId}`);
    return customer;
  };

  return {
    name: 'customers',
    async start() {
      bus.subscribe({
        group: 'customers',
        handlers: [
          on(OrderCreated, (event) => {
            const customer = customers.get(event.data.customerId);
            // A redelivered OrderCreated must not count a purchase twice.
            if (!customer || customer.purchases.some((p) => p.orderId === event.data.orderId))
              return;
            customer.purchases.push({
              orderId: event.data.orderId,
              total: event.data.total,
              currency: event.data.currency,
              at: event.time ?? new Date().toISOString(),
            });
          }),
        ],
      });
    },
    async stop() {},
    routes: [
      {
        method: 'POST',
        path: '/customers',
        async handle({ body }) {
          const input = parseBody(NewCustomer, body);
          const customerId = input.customerId ?? `c-${randomUUID().slice(0, 8)}`;
          if (customers.has(customerId))
            throw new HttpError(409, 'CUSTOMER_EXISTS', `Customer ${customerId} exists`);
          await bus.publish(CustomerCreated, { ...input, customerId });
          const customer: Customer = {
            customerId,
            name: input.name,
            email: input.email,
            purchases: [],
          };
          customers.set(customerId, customer);
          return { status: 201, json: customer };
        },
      },
      {
        method: 'GET',
        path: '/customers/:customerId',
        handle: async ({ params }) => ({ json: find(params.customerId as string) }),
      },
      {
        method: 'PUT',
        path: '/customers/:customerId',
        async handle({ params, body }) {
          const customer = find(params.customerId as string);
          const change = parseBody(CustomerChange, body);
          await bus.publish(CustomerUpdated, { customerId: customer.customerId, ...change });
          Object.assign(customer, change);
          return { json: customer };
        },
      },
      {
        method: 'DELETE',
        path: '/customers/:customerId',
        async handle({ params }) {
          const customer = find(params.customerId as string);
          await bus.publish(CustomerDeleted, { customerId: customer.customerId });
          customers.delete(customer.customerId);
          return { json: { deleted: customer.customerId } };
        },
      },
    ],
  };
}
