import { runTransportConformance } from '@edakit/core/testing';
import { testTransport } from '../support/integration';

// The very suite the memory transport passes, against the real broker.
runTransportConformance({
  name: 'rabbitmq',
  createTransport: () => testTransport(),
  timeoutMs: 30_000,
});
