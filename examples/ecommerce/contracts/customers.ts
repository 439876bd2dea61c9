import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { byCustomer, id } from './fields';

const profile = {
  customerId: id,
  name: z.string().min(1).max(200),
  email: z.email(),
};

export const CustomerCreated = defineEvent({
  type: 'customer.created',
  description: 'A customer signed up.',
  schema: z.object(profile),
  partitionKey: byCustomer,
});

export const CustomerUpdated = defineEvent({
  type: 'customer.updated',
  description: 'A customer changed their name or email.',
  schema: z.object(profile),
  partitionKey: byCustomer,
});

export const CustomerDeleted = defineEvent({
  type: 'customer.deleted',
  description: 'A customer closed their account.',
  schema: z.object({ customerId: id }),
  partitionKey: byCustomer,
});
