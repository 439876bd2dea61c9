import { runTransportConformance } from '@edakit/core/testing';
import { testTransport } from '../support/kafka-factory';

// The very suite the memory transport passes, against the real broker.
runTransportConformance({
  name: 'kafka',
  createTransport: () => testTransport(),
  timeoutMs: 60_000,
});
