export { CapturingTransport } from './capturing-transport';
export {
  conformanceContract,
  Tally,
  uniqueNamespace,
  type ConformanceContract,
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
export { waitFor, type WaitOptions } from './wait-for';
