import { on } from '@edakit/core';
import {
  CancelShipment,
  CreateShipment,
  ShipmentCompleted,
  ShipmentStarted,
  ShipmentUpdated,
} from '../../../contracts';
import { HttpError } from '../../platform/http';
import type { Service, ServiceDeps } from '../../platform/service';

export interface Shipment {
  orderId: string;
  shipmentId: string;
  status: 'started' | 'in_transit' | 'delivered' | 'cancelled';
}

/** How long the demo's carrier takes for each leg (started -> in transit -> delivered). */
export const CARRIER_STEP_MS = 200;

/**
 * Ships paid orders: the saga's CreateShipment starts a shipment (the reply,
 * ShipmentStarted), then the carrier reports it in transit, delivered and
 * completed. A cancelled shipment stops where it is.
 */
export function shippingService({ bus }: ServiceDeps): Service {
  const shipments = new Map<string, Shipment>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (work: () => Promise<void>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work().catch((error: unknown) => console.error('shipping: carrier update failed', error));
    }, CARRIER_STEP_MS);
    timers.add(timer);
  };

  /** The carrier's legs, each announced with the order's correlation id. */
  const carry = (shipment: Shipment, correlationId: string) => {
    const { orderId, shipmentId } = shipment;
    later(async () => {
      if (shipment.status !== 'started') return;
      shipment.status = 'in_transit';
      await bus.publish(
        ShipmentUpdated,
        { orderId, shipmentId, status: 'in_transit' },
        { correlationId },
      );
      later(async () => {
        if (shipment.status !== 'in_transit') return;
        shipment.status = 'delivered';
        await bus.publish(
          ShipmentUpdated,
          { orderId, shipmentId, status: 'delivered' },
          { correlationId },
        );
        await bus.publish(ShipmentCompleted, { orderId, shipmentId }, { correlationId });
      });
    });
  };

  return {
    name: 'shipping',
    async start() {
      bus.subscribe({
        group: 'shipping',
        handlers: [
          on(CreateShipment, async (command, ctx) => {
            const { orderId } = command.data;
            let shipment = shipments.get(orderId);
            if (!shipment) {
              shipment = { orderId, shipmentId: `shp-${orderId}`, status: 'started' };
              shipments.set(orderId, shipment);
              carry(shipment, command.correlationid);
            }
            await ctx.publish(ShipmentStarted, { orderId, shipmentId: shipment.shipmentId });
          }),
          on(CancelShipment, (command) => {
            const shipment = shipments.get(command.data.orderId);
            if (shipment && shipment.status !== 'delivered') shipment.status = 'cancelled';
          }),
        ],
      });
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
    routes: [
      {
        method: 'GET',
        path: '/shipments/:orderId',
        async handle({ params }) {
          const shipment = shipments.get(params.orderId as string);
          if (!shipment)
            throw new HttpError(404, 'UNKNOWN_SHIPMENT', `No shipment for ${params.orderId}`);
          return { json: shipment };
        },
      },
    ],
  };
}
