import { brokers, portOpen, services } from './kafka-broker';

/**
 * The integration tests need the real broker. Start it (idempotent) when it is
 * not up; if that fails, stop with one line that says how to start it. Tests
 * never skip because the broker is down.
 */
export default async function setup(): Promise<void> {
  if (await portOpen(brokers[0] as string)) return;
  try {
    services('up', 'kafka');
  } catch (error) {
    const output = (error as { stdout?: string; stderr?: string }).stderr ?? '';
    throw new Error(
      `Kafka is not reachable at ${brokers.join(',')} and could not be started: run "scripts/services/up kafka" (${output.trim().split('\n').pop() ?? ''})`,
    );
  }
}
