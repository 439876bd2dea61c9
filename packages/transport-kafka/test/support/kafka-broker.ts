import { portOpen as portOpenAt } from '../../../../test-support/services';

export {
  repoRoot,
  services,
  servicesAsync,
  servicesScript,
} from '../../../../test-support/services';

/** The single test broker (scripts/services up kafka). */
export const brokers = (process.env.EDAKIT_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const saslBroker = process.env.EDAKIT_KAFKA_SASL_BROKER ?? '127.0.0.1:9094';
export const clusterBrokers = ['127.0.0.1:19092', '127.0.0.1:29092', '127.0.0.1:39092'];

/** portOpen for a `host:port` broker address. */
export function portOpen(address: string, timeoutMs = 1000): Promise<boolean> {
  const [host = '127.0.0.1', port] = address.split(':');
  return portOpenAt(host, Number(port), timeoutMs);
}
