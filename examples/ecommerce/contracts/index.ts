/**
 * The e-commerce event contracts: what a service imports to publish or handle
 * an event (in a real system, a published package of its own). The catalog
 * (`./catalog`) says who produces and who consumes each one.
 */
export * from './cart';
export * from './customers';
export * from './inventory';
export * from './orders';
export * from './payment';
export * from './products';
export * from './shipping';
