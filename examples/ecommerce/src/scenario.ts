import type { ShopClient } from './client';
import type { OrderSummary } from './read-model/order-summary';

/**
 * The narrated tour of `npm start`: a catalog, a customer and a cart, one
 * order that ships and one whose payment is declined and compensated.
 */
export async function runScenario(
  shop: ShopClient,
  say: (line: string) => void,
): Promise<{ shipped: OrderSummary; cancelled: OrderSummary }> {
  say('1. The catalog: a mug (10 in stock) and a lamp (2 in stock, over the card limit).');
  await shop.post('/products', {
    productId: 'mug',
    name: 'Mug',
    price: 12.5,
    currency: 'EUR',
    initialStock: 10,
  });
  await shop.post('/products', {
    productId: 'lamp',
    name: 'Lamp',
    price: 1_500,
    currency: 'EUR',
    initialStock: 2,
  });
  await shop.post('/customers', {
    customerId: 'ada',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
  });
  await shop.until('/inventory/lamp', () => true);

  say('2. Ada adds two mugs to her cart, then one more: the cart holds three.');
  await shop.until<{ stock: number }>('/inventory/mug', (stock) => stock.stock === 10);
  await shop.post('/cart/ada/items', { productId: 'mug', quantity: 2 });
  const cart = await shop.post<{ items: Record<string, number> }>('/cart/ada/items', {
    productId: 'mug',
    quantity: 1,
  });
  say(`   cart: ${JSON.stringify(cart.items)}`);

  say('3. She orders two mugs: inventory reserves, payment charges, shipping ships.');
  await shop.until('/orders', () => true);
  const first = await shop.placeOrder('ada', [{ productId: 'mug', quantity: 2 }]);
  const shipped = await shop.until<OrderSummary>(
    `/order-summaries/${first}`,
    (s) => s.status === 'delivered',
  );
  say(
    `   ${first}: ${shipped.status}, paid ${shipped.total} ${shipped.currency} (${shipped.paymentId}), shipment ${shipped.shipment?.shipmentId}`,
  );

  say('4. She orders the lamp: the payment is declined, the saga releases the stock and cancels.');
  const second = await shop.placeOrder('ada', [{ productId: 'lamp', quantity: 1 }]);
  const cancelled = await shop.until<OrderSummary>(
    `/order-summaries/${second}`,
    (s) => s.status === 'cancelled',
  );
  const lamp = await shop.until<{ stock: number }>('/inventory/lamp', (stock) => stock.stock === 2);
  say(
    `   ${second}: ${cancelled.status} (${cancelled.problem}); lamps in stock again: ${lamp.stock}`,
  );
  return { shipped, cancelled };
}
