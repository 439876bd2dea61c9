import { runTransportConformance } from '../testing/transport-conformance';
import { InMemoryTransport } from './in-memory-transport';
import { MemoryBroker } from './memory-broker';

// The same suite with Kafka-like routing: every group sees every type of its channels.
const broker = new MemoryBroker({ routing: 'channel' });

runTransportConformance({
  name: 'memory (channel routing)',
  createTransport: () => new InMemoryTransport({ broker }),
  batchSize: 2000,
});
