import { describeShopOverBroker } from '../support/broker-shop';

// Every service in this process over Kafka (orders in PostgreSQL, the saga in
// Redis), in a namespace of its own: topics, consumer groups, tables and keys.
describeShopOverBroker('kafka');
