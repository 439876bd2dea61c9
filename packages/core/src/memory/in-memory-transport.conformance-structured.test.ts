import { runTransportConformance } from '../testing/transport-conformance';
import { InMemoryTransport } from './in-memory-transport';
import { MemoryBroker } from './memory-broker';

// The same suite with every event published in CloudEvents structured mode.
const broker = new MemoryBroker();

runTransportConformance({
  name: 'memory (structured mode)',
  createTransport: () => new InMemoryTransport({ broker, contentMode: 'structured' }),
});
