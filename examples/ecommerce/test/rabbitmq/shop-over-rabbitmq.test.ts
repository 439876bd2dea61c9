import { describeShopOverBroker } from '../support/broker-shop';

// Every service in this process over RabbitMQ (orders in PostgreSQL, the saga
// in Redis), in a namespace of its own: exchange, queues, tables and keys.
describeShopOverBroker('rabbitmq');
