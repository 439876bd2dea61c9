import { requireService } from '../../../../test-support/services';
import { brokers } from './kafka-broker';

/** The integration tests need the real broker: start it, or fail saying how. */
export default async function setup(): Promise<void> {
  const [host = '127.0.0.1', port = '9092'] = (brokers[0] as string).split(':');
  await requireService('kafka', host, Number(port));
}
