import { z } from 'zod';

/** Identifiers are opaque, non-empty strings chosen by the owning service. */
export const id = z.string().min(1).max(64);
export const currency = z.string().length(3).toUpperCase();
export const money = z.number().nonnegative();
export const quantity = z.number().int().positive();
export const isoTime = z.iso.datetime();

/** Lines of an order, priced when the order was placed. */
export const orderLines = z.array(z.object({ productId: id, quantity, unitPrice: money })).min(1);

/** Every order event is keyed by its order: one order's events keep their order. */
export const byOrder = (data: { orderId: string }): string => data.orderId;
export const byProduct = (data: { productId: string }): string => data.productId;
export const byCustomer = (data: { customerId: string }): string => data.customerId;
