import { runTransportConformance } from '../testing/transport-conformance';
import { InMemoryTransport } from './in-memory-transport';
import { MemoryBroker } from './memory-broker';

// One broker for the file: each test uses its own channels and groups, as it
// would on a shared Kafka or RabbitMQ broker.
const broker = new MemoryBroker();

runTransportConformance({
  name: 'memory',
  createTransport: () => new InMemoryTransport({ broker }),
});
