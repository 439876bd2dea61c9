export { CapturingTransport } from './capturing-transport';
export {
  type ConformanceContract,
  conformanceContract,
  Tally,
  uniqueNamespace,
} from './conformance-fixtures';
export {
  createTestHarness,
  type TestHarness,
  type TestHarnessOptions,
} from './test-harness';
export {
  runTransportConformance,
  type TransportConformanceOptions,
} from './transport-conformance';
export { type WaitOptions, waitFor } from './wait-for';
