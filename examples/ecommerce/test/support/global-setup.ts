import { requireService } from '../../../../test-support/services';

/** The end-to-end tests run the shop over every transport: start what is down, or fail saying how. */
export default async function setup(): Promise<void> {
  await requireService('postgres', '127.0.0.1', 5432);
  await requireService('redis', '127.0.0.1', 6379);
  await requireService('kafka', '127.0.0.1', 9092);
  await requireService('rabbitmq', '127.0.0.1', 5672);
}
