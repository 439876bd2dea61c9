import { defineEvent } from '@edakit/core';
import { z } from 'zod';
import { byOrder, id } from './fields';

export const CreateShipment = defineEvent({
  type: 'shipping.create',
  description: 'Command (order saga): the order is paid and ready to ship.',
  schema: z.object({ orderId: id, customerId: id }),
  partitionKey: byOrder,
});

export const CancelShipment = defineEvent({
  type: 'shipping.cancel',
  description: 'Command (order saga, compensation): stop the shipment of an order.',
  schema: z.object({ orderId: id }),
  partitionKey: byOrder,
});

export const ShipmentStarted = defineEvent({
  type: 'shipment.started',
  description: 'A shipment was handed to the carrier (the reply to shipping.create).',
  schema: z.object({ orderId: id, shipmentId: id }),
  partitionKey: byOrder,
});

export const ShipmentUpdated = defineEvent({
  type: 'shipment.updated',
  description: 'A shipment moved: in transit, or delivered.',
  schema: z.object({ orderId: id, shipmentId: id, status: z.enum(['in_transit', 'delivered']) }),
  partitionKey: byOrder,
});

export const ShipmentCompleted = defineEvent({
  type: 'shipment.completed',
  description: 'A shipment is done: the customer has the parcel.',
  schema: z.object({ orderId: id, shipmentId: id }),
  partitionKey: byOrder,
});
