import { runTransportConformance } from '@edakit/core/testing';
import { testTransport } from '../support/kafka-factory';

// The very suite the memory transport passes, against the real broker.
runTransportConformance({
  name: 'kafka',
  createTransport: () => testTransport(),
  timeoutMs: 60_000,
  // A group rebalances when its second member joins; members learn it at their next heartbeat.
  groupSettleMs: 1_500,
});
