import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology } from '../../src/topology';
import { TopologyNames } from '../../src/topology-names';
import { rawConnection } from '../support/integration';
import { brokerUrl, rabbitmqctl } from '../support/rabbitmq-broker';

/**
 * A vhost whose default queue type is quorum: the DLQ, the unroutable queue and
 * a classic group's queues must stay classic (a quorum DLQ on RabbitMQ 4.x
 * drops dead letters after ~20 browses). The name matches the stale-vhost sweep.
 */
const quorumVhost = `edakit-test-${Date.now().toString(36)}-${process.pid}0${Math.floor(Math.random() * 1e6)}`;

beforeAll(async () => {
  await rabbitmqctl('add_vhost', quorumVhost, '--default-queue-type', 'quorum');
  await rabbitmqctl('set_permissions', '-p', quorumVhost, 'guest', '.*', '.*', '.*');
});
afterAll(async () => {
  await rabbitmqctl('delete_vhost', quorumVhost).catch(() => undefined);
});

async function queueTypes(): Promise<Map<string, string>> {
  const output = await rabbitmqctl(
    'list_queues',
    '-p',
    quorumVhost,
    'name',
    'type',
    '--quiet',
    '--no-table-headers',
  );
  const types = new Map<string, string>();
  for (const line of output.split('\n')) {
    const [name, type] = line.trim().split(/\s+/);
    if (name && type) types.set(name, type);
  }
  return types;
}

describe('default_queue_type = quorum', () => {
  it('keeps the DLQ, the unroutable queue and classic group queues classic', async () => {
    const model = await rawConnection(brokerUrl(quorumVhost));
    try {
      const topology = new Topology({
        names: new TopologyNames('dqt.events', 'dqt.events.unroutable'),
        queueType: 'classic',
        deliveryLimit: undefined,
        singleActiveConsumer: false,
        retryTiersMs: [100],
        unroutable: 'alternate',
      });
      await topology.declareGroup(model, 'classicgroup', ['dqt.happened']);
      const quorum = new Topology({ ...topology.settings, queueType: 'quorum' });
      await quorum.declareGroup(model, 'quorumgroup', ['dqt.happened']);
    } finally {
      await model.close().catch(() => undefined);
    }
    expect(Object.fromEntries(await queueTypes())).toEqual({
      'dqt.events.unroutable': 'classic',
      classicgroup: 'classic',
      'classicgroup.retry.100ms': 'classic',
      'classicgroup.dlq': 'classic',
      quorumgroup: 'quorum',
      'quorumgroup.retry.100ms': 'quorum',
      'quorumgroup.dlq': 'classic',
    });
  });
});
