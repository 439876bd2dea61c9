import { eventFeedService } from '../feed/event-feed';
import type { ServiceFactory } from '../platform/service';
import { orderSummaryService } from '../read-model/order-summary-service';
import { webService } from '../web/web-service';
import { analyticsService } from './analytics/analytics-service';
import { cartService } from './cart/cart-service';
import { customersService } from './customers/customers-service';
import { inventoryService } from './inventory/inventory-service';
import { ordersService } from './orders/orders-service';
import { paymentService } from './payment/payment-service';
import { productsService } from './products/products-service';
import { recommendationsService } from './recommendations/recommendations-service';
import { shippingService } from './shipping/shipping-service';

/** Every service of the shop, by the name `npm run service -- <name>` takes. */
export const SERVICES = {
  products: productsService,
  customers: customersService,
  inventory: inventoryService,
  payment: paymentService,
  shipping: shippingService,
  cart: cartService,
  recommendations: recommendationsService,
  analytics: analyticsService,
  orders: ordersService,
  'order-summary': orderSummaryService,
  'event-feed': eventFeedService,
  web: webService,
} satisfies Record<string, ServiceFactory>;

export type ServiceName = keyof typeof SERVICES;

export const isServiceName = (name: string): name is ServiceName => Object.hasOwn(SERVICES, name);
