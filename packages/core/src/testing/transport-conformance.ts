import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BusOptions } from '../bus/bus-options';
import { type Bus, createBus } from '../bus/create-bus';
import { parseWireMessage } from '../codec/decode';
import { encodeEnvelope } from '../codec/encode';
import { type ContentMode, defaultHeaderNaming, type HeaderNaming } from '../codec/wire-message';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { on } from '../handler/handler';
import {
  type DeadLetter,
  type DeadLetterAdmin,
  hasDeadLetterAdmin,
} from '../transport/dead-letter-admin';
import type { OutgoingMessage, Transport } from '../transport/transport';
import {
  type ConformanceContract,
  conformanceContract,
  sleep,
  Tally,
  uniqueNamespace,
} from './conformance-fixtures';
import { waitFor } from './wait-for';

export interface TransportConformanceOptions {
  /** Shown in the suite's name. */
  readonly name: string;
  /** A new transport on the same broker/cluster at each call (one per simulated process). */
  readonly createTransport: () => Transport | Promise<Transport>;
  /** Creates what a channel needs before use (topics, queues). Called once per test. */
  readonly prepareChannels?: (channels: readonly string[]) => Promise<void>;
  /** How long to wait for deliveries. Default 30 s. */
  readonly timeoutMs?: number;
  /** Size of the bulk test. Default 10 000. */
  readonly batchSize?: number;
  /** Base delay of the retry tests, ms. Default 100. */
  readonly retryDelayMs?: number;
  /**
   * Time for group membership to settle after every consumer reports healthy
   * (a Kafka group rebalances when a second member joins). Default 0.
   */
  readonly groupSettleMs?: number;
}

/**
 * The behaviour every edakit transport must have, as a vitest suite. A
 * transport package runs it against its real broker:
 *
 * @example
 * runTransportConformance({ name: 'kafka', createTransport: () => new KafkaTransport(config) });
 */
export function runTransportConformance(options: TransportConformanceOptions): void {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const batchSize = options.batchSize ?? 10_000;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const groupSettleMs = options.groupSettleMs ?? 0;
  // Every test's own timeout outlasts its waits, so a failure names what it waited for.
  const testTimeoutMs = timeoutMs * 3;
  const buses: Bus[] = [];

  const setup = async (channelCount = 1) => {
    const namespace = uniqueNamespace();
    const contract = conformanceContract(namespace);
    await options.prepareChannels?.([contract.channel].slice(0, channelCount));
    // Group names are unique per run too: a broker keeps groups between runs.
    const group = (name: string) => `${namespace}-${name}`;
    return { namespace, contract, group };
  };

  const newBus = async (extra: Partial<BusOptions> = {}): Promise<Bus> => {
    const bus = createBus({
      source: '/conformance',
      ...extra,
      transport: await options.createTransport(),
    });
    buses.push(bus);
    return bus;
  };

  /** Starts a bus and waits until its consumers are ready (a Kafka group has joined). */
  const started = async (bus: Bus): Promise<void> => {
    await bus.start();
    await waitFor(async () => (await bus.health()).status === 'up', {
      timeoutMs,
      description: 'the bus to report healthy after start',
    });
    if (groupSettleMs > 0) await sleep(groupSettleMs);
  };

  /** Reads a group's dead letters through a separate transport, as an operator would. */
  const deadLettersOf = async (
    group: string,
    channel: string,
    expected: number,
  ): Promise<DeadLetter[]> => {
    const admin = await adminTransport();
    try {
      return await waitFor(
        async () => {
          const list = await admin.listDeadLetters({ group, channel });
          return list.length >= expected ? list : undefined;
        },
        { timeoutMs, description: `${expected} dead letter(s) in group ${group}` },
      );
    } finally {
      await admin.close();
    }
  };

  const adminTransport = async (): Promise<Transport & DeadLetterAdmin> => {
    const admin = await options.createTransport();
    if (!hasDeadLetterAdmin(admin)) {
      await admin.close();
      throw new Error(
        `Transport "${admin.name}" must implement DeadLetterAdmin (listDeadLetters, redriveDeadLetters)`,
      );
    }
    await admin.connect();
    return admin;
  };

  /** The transport's header naming (`ce_`, `cloudEvents_`) and content mode. */
  const wireFormat = async (): Promise<{ naming: HeaderNaming; mode: ContentMode }> => {
    const transport = await options.createTransport();
    const naming = transport.headerNaming ?? defaultHeaderNaming;
    const mode = transport.contentMode ?? 'binary';
    await transport.close();
    return { naming, mode };
  };

  /** Publishes each batch in turn straight through a transport, as another producer would. */
  const publishRaw = async (...batches: OutgoingMessage[][]): Promise<void> => {
    const transport = await options.createTransport();
    try {
      await transport.connect();
      for (const batch of batches) await transport.publish(batch);
    } finally {
      await transport.close();
    }
  };

  /**
   * One key's events around a run of poison, written straight through the
   * transport: the good ones are handled in order, each poison message is
   * dead-lettered at once with the expected reason.
   */
  const expectPoisonDeadLettered = async (test: {
    name: string;
    busOptions?: Partial<BusOptions>;
    build: (
      bus: Bus,
      contract: ConformanceContract,
      naming: HeaderNaming,
    ) => { good: (seq: number) => OutgoingMessage; poison: OutgoingMessage[] };
    reasons: string[];
  }): Promise<void> => {
    const { contract, group } = await setup();
    const handled: number[] = [];
    const bus = await newBus(test.busOptions);
    bus.subscribe({
      group: group(test.name),
      startFrom: 'earliest',
      handlers: [on(contract, (event) => void handled.push(event.data.seq))],
    });
    await started(bus);
    const { naming } = await wireFormat();
    const { good, poison } = test.build(bus, contract, naming);
    await publishRaw([good(1)], poison, [good(2), good(3)]);
    await wait(() => handled.length === 3, `the good events around the ${test.name}`);
    expect(handled).toEqual([1, 2, 3]);
    const deadLetters = await deadLettersOf(group(test.name), contract.channel, poison.length);
    expect(deadLetters.map((deadLetter) => deadLetter.info.reason).sort()).toEqual(
      [...test.reasons].sort(),
    );
    for (const deadLetter of deadLetters) {
      expect(deadLetter.info.attempts).toBe(0);
      expect(deadLetter.info.errorMessage).not.toBe('');
      expect(deadLetter.info.group).toBe(group(test.name));
    }
  };

  const wait = (check: () => boolean, description: string) =>
    waitFor(() => check() || undefined, { timeoutMs, description });

  afterEach(async () => {
    await Promise.all(
      buses.splice(0).map((bus) => bus.stop({ deadlineMs: 1000 }).catch(() => undefined)),
    );
  });

  describe(`transport conformance: ${options.name}`, { timeout: testTimeoutMs }, () => {
    it('round-trips an event with every attribute intact', async () => {
      const { contract, group } = await setup();
      const received: unknown[] = [];
      const bus = await newBus();
      bus.subscribe({
        group: group('roundtrip'),
        startFrom: 'earliest',
        handlers: [on(contract, (event) => void received.push(event))],
      });
      await started(bus);
      const sent = await bus.publish(
        contract,
        { key: 'k-1', seq: 7, note: 'naïve ✓' },
        {
          subject: 'subject-1',
          correlationId: 'corr-1',
          causationId: 'cause-1',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          tracestate: 'edakit=1',
          sequence: 42,
          time: '2026-01-02T03:04:05.678Z',
        },
      );
      await wait(() => received.length === 1, 'the round-trip event');
      expect(received[0]).toEqual(sent);
      expect(sent).toMatchObject({
        specversion: '1.0',
        type: contract.type,
        source: '/conformance',
        partitionkey: 'k-1',
        sequence: 42,
        time: '2026-01-02T03:04:05.678Z',
        data: { key: 'k-1', seq: 7, note: 'naïve ✓' },
      });
    });

    it('fans out: every group receives each event once', async () => {
      const { contract, group } = await setup();
      const tallies = { a: new Tally(), b: new Tally() };
      const bus = await newBus();
      for (const name of ['a', 'b'] as const) {
        bus.subscribe({
          group: group(`fanout-${name}`),
          startFrom: 'earliest',
          handlers: [on(contract, (event) => tallies[name].add(event.id))],
        });
      }
      await started(bus);
      const sent = await bus.publishBatch(
        Array.from({ length: 20 }, (_, seq) => bus.prepare(contract, { key: `k${seq % 4}`, seq })),
      );
      await wait(
        () => tallies.a.total >= 20 && tallies.b.total >= 20,
        'both groups to get 20 events',
      );
      await sleep(200);
      for (const tally of Object.values(tallies)) {
        expect(tally.total).toBe(20);
        expect(tally.distinct).toBe(20);
        for (const envelope of sent) expect(tally.has(envelope.id)).toBe(true);
      }
    });

    it('shares a group between competing consumers, each event handled once', async () => {
      const { contract, group } = await setup();
      const perMember = [new Tally(), new Tally()];
      const all = new Tally();
      const members = await Promise.all([newBus(), newBus()]);
      members.forEach((bus, index) => {
        bus.subscribe({
          group: group('competing'),
          startFrom: 'earliest',
          concurrency: 2,
          handlers: [
            on(contract, async (event) => {
              perMember[index]?.add(event.id);
              all.add(event.id);
              await sleep(2);
            }),
          ],
        });
      });
      await Promise.all(members.map(started));
      const publisher = members[0] as Bus;
      await publisher.publishBatch(
        Array.from({ length: 200 }, (_, seq) =>
          publisher.prepare(contract, { key: `key-${seq}`, seq }),
        ),
      );
      await wait(() => all.distinct === 200, '200 distinct events across the group');
      await sleep(200);
      expect(all.total).toBe(200);
      expect(perMember[0]?.total).toBeGreaterThan(0);
      expect(perMember[1]?.total).toBeGreaterThan(0);
    });

    it('keeps per-key order under concurrency', async () => {
      const { contract, group } = await setup();
      // Fewer keys than concurrency slots: a scheduler that let one key run
      // twice at once would get the chance to.
      const keys = 5;
      const perKey = 60;
      const seen = new Map<string, number[]>();
      let running = 0;
      let peak = 0;
      const bus = await newBus();
      bus.subscribe({
        group: group('ordered'),
        startFrom: 'earliest',
        concurrency: 8,
        handlers: [
          on(contract, async (event) => {
            running++;
            peak = Math.max(peak, running);
            // Earlier events of a key sleep longer than later ones, so any
            // overlap within a key would reorder them.
            await sleep((2 - (Math.floor(event.data.seq / keys) % 3)) * 4);
            const list = seen.get(event.data.key) ?? [];
            list.push(event.data.seq);
            seen.set(event.data.key, list);
            running--;
          }),
        ],
      });
      await started(bus);
      await bus.publishBatch(
        Array.from({ length: keys * perKey }, (_, seq) =>
          bus.prepare(contract, { key: `key-${seq % keys}`, seq }),
        ),
      );
      await wait(
        () => [...seen.values()].reduce((sum, list) => sum + list.length, 0) === keys * perKey,
        'every ordered event',
      );
      for (const list of seen.values()) {
        expect(list).toHaveLength(perKey);
        expect(list).toEqual([...list].sort((a, b) => a - b));
      }
      expect(peak).toBeGreaterThan(1);
    });

    it('retries after a delay, then succeeds', async () => {
      const { contract, group } = await setup();
      const attempts: Array<{ attempt: number; at: number }> = [];
      const bus = await newBus();
      bus.subscribe({
        group: group('retrying'),
        startFrom: 'earliest',
        retry: { immediate: 1, delayed: [retryDelayMs, retryDelayMs] },
        handlers: [
          on(contract, (_event, context) => {
            attempts.push({ attempt: context.attempt, at: Date.now() });
            if (attempts.length < 4) throw new Error(`transient failure ${attempts.length}`);
          }),
        ],
      });
      await started(bus);
      await bus.publish(contract, { key: 'r', seq: 1 });
      await wait(() => attempts.length === 4, 'four attempts');
      await sleep(retryDelayMs * 3);
      expect(attempts.map((entry) => entry.attempt)).toEqual([1, 2, 3, 4]);
      // attempts 1-2 are immediate; 3 comes after the first delayed retry.
      const [, second, third] = attempts;
      expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(retryDelayMs * 0.9);
    });

    it('dead-letters after the retries are exhausted, with failure metadata and the original bytes', async () => {
      const { contract, group } = await setup();
      let calls = 0;
      const bus = await newBus();
      bus.subscribe({
        group: group('exhausted'),
        startFrom: 'earliest',
        retry: { immediate: 1, delayed: [retryDelayMs / 2, retryDelayMs / 2] },
        handlers: [
          on(contract, () => {
            calls++;
            throw new TypeError('always broken');
          }),
        ],
      });
      await started(bus);
      const sent = bus.prepare(contract, { key: 'dead', seq: 3 });
      await bus.publishBatch([sent]);
      const [deadLetter] = await deadLettersOf(group('exhausted'), contract.channel, 1);
      expect(calls).toBe(6);
      expect(deadLetter?.info).toMatchObject({
        reason: ErrorCodes.RETRIES_EXHAUSTED,
        errorMessage: 'always broken',
        errorClass: 'TypeError',
        attempts: 6,
        retries: 2,
        group: group('exhausted'),
        handler: `${group('exhausted')}/${contract.type}`,
        channel: contract.channel,
      });
      expect(deadLetter?.info.origin).not.toBe('');
      expect(Date.parse(deadLetter?.info.firstFailureAt ?? '')).toBeLessThanOrEqual(
        Date.parse(deadLetter?.info.lastFailureAt ?? ''),
      );
      expect(
        Buffer.from(deadLetter?.message.body ?? []).equals(Buffer.from(sent.outgoing.message.body)),
      ).toBe(true);
      expect(deadLetter?.message.key).toBe('dead');
      if (!deadLetter) throw new Error('no dead letter');
      const { naming, mode } = await wireFormat();
      expect(parseWireMessage(deadLetter.message, { naming }).id).toBe(sent.envelope.id);
      if (mode === 'binary') {
        expect(deadLetter.message.headers[`${naming.attributePrefix}id`]).toBe(sent.envelope.id);
      }
    });

    it('dead-letters poison messages at once and keeps the rest of the key flowing', async () => {
      await expectPoisonDeadLettered({
        name: 'poison',
        busOptions: { maxMessageBytes: 64 * 1024 },
        build: (bus, contract, naming) => {
          const good = (seq: number) => bus.prepare(contract, { key: 'same-key', seq }).outgoing;
          const first = bus.prepare(contract, { key: 'same-key', seq: 0 });
          const template = first.outgoing;
          // Poison comes from raw producers in binary mode, whatever mode the bus writes.
          const headers = encodeEnvelope(first.envelope, { naming }).headers;
          const prefix = naming.attributePrefix;
          const raw = (
            patch: Partial<Record<string, string | undefined>>,
            body: Uint8Array | string,
          ): OutgoingMessage => {
            const merged: Record<string, string> = {
              ...headers,
              [`${prefix}id`]: uniqueNamespace('poison'),
            };
            for (const [name, value] of Object.entries(patch)) {
              if (value === undefined) delete merged[name];
              else merged[name] = value;
            }
            return {
              channel: template.channel,
              type: template.type,
              message: {
                key: 'same-key',
                headers: merged,
                body: typeof body === 'string' ? Buffer.from(body) : body,
              },
            };
          };
          const poison = [
            raw({}, '{not json'),
            raw({}, JSON.stringify({ key: 'same-key', seq: 'not a number' })),
            raw(
              { [`${prefix}type`]: `${contract.type}.unknown` },
              JSON.stringify({ key: 'same-key', seq: 1 }),
            ),
            raw({ [`${prefix}dataversion`]: '99' }, JSON.stringify({ key: 'same-key', seq: 1 })),
            raw(
              { [`${prefix}id`]: undefined, [`${prefix}source`]: undefined },
              JSON.stringify({ key: 'same-key', seq: 1 }),
            ),
            raw({}, JSON.stringify({ key: 'same-key', seq: 1, note: 'x'.repeat(100 * 1024) })),
          ];
          return { good, poison };
        },
        reasons: [
          ErrorCodes.DECODE_FAILED,
          ErrorCodes.VALIDATION_FAILED,
          ErrorCodes.UNKNOWN_EVENT,
          ErrorCodes.UNSUPPORTED_VERSION,
          ErrorCodes.MISSING_ATTRIBUTE,
          ErrorCodes.PAYLOAD_TOO_LARGE,
        ],
      });
    });

    it('dead-letters structured-mode poison at once and keeps the rest of the key flowing', async () => {
      await expectPoisonDeadLettered({
        name: 'structured-poison',
        build: (bus, contract, naming) => {
          // Whatever mode the bus writes, other producers may send structured CloudEvents.
          const good = (seq: number): OutgoingMessage => {
            const { envelope, outgoing } = bus.prepare(contract, { key: 'same-key', seq });
            return {
              ...outgoing,
              message: encodeEnvelope(envelope, { naming, contentMode: 'structured' }),
            };
          };
          const template = good(0);
          const attributes = JSON.parse(Buffer.from(template.message.body).toString()) as Record<
            string,
            unknown
          >;
          const body = (text: string): OutgoingMessage => ({
            ...template,
            message: { ...template.message, body: Buffer.from(text) },
          });
          const event = (patch: Record<string, unknown>) =>
            body(JSON.stringify({ ...attributes, id: uniqueNamespace('poison'), ...patch }));
          const poison = [
            body('{not json'),
            body('[1]'),
            event({ id: undefined }),
            event({ specversion: '0.3' }),
            event({ data: undefined, data_base64: 'AA==' }),
            event({ data: { key: 'same-key', seq: 'not a number' } }),
          ];
          return { good, poison };
        },
        reasons: [
          ErrorCodes.DECODE_FAILED,
          ErrorCodes.DECODE_FAILED,
          ErrorCodes.MISSING_ATTRIBUTE,
          ErrorCodes.DECODE_FAILED,
          ErrorCodes.DECODE_FAILED,
          ErrorCodes.VALIDATION_FAILED,
        ],
      });
    });

    it('redrives dead letters to the group, keeping the event id', async () => {
      const { contract, group } = await setup();
      let broken = true;
      const handled: string[] = [];
      const bus = await newBus();
      bus.subscribe({
        group: group('redrive'),
        startFrom: 'earliest',
        retry: { immediate: 0, delayed: [] },
        handlers: [
          on(contract, (event) => {
            if (broken) throw new Error('not yet');
            handled.push(event.id);
          }),
        ],
      });
      await started(bus);
      const sent = await bus.publish(contract, { key: 'redrive', seq: 1 });
      await deadLettersOf(group('redrive'), contract.channel, 1);
      broken = false;
      const admin = await adminTransport();
      try {
        expect(
          await admin.redriveDeadLetters({ group: group('redrive'), channel: contract.channel }),
        ).toBe(1);
      } finally {
        await admin.close();
      }
      await wait(() => handled.length === 1, 'the redriven event');
      expect(handled).toEqual([sent.id]);
    });

    it('redelivers unfinished work to another member when a consumer stops mid-batch', async () => {
      const { contract, group } = await setup();
      const takenIds = new Tally();
      const finishedByB = new Tally();
      const busA = await newBus();
      busA.subscribe({
        group: group('handover'),
        startFrom: 'earliest',
        concurrency: 4,
        handlers: [
          on(contract, async (event) => {
            takenIds.add(event.id);
            await new Promise(() => {}); // hangs: this consumer "dies" with the work
          }),
        ],
      });
      await started(busA);
      const sent = await busA.publishBatch(
        Array.from({ length: 10 }, (_, seq) => busA.prepare(contract, { key: `h${seq}`, seq })),
      );
      await wait(() => takenIds.distinct >= 4, 'the first consumer to take work');
      await busA.stop({ deadlineMs: 100 });
      const busB = await newBus();
      busB.subscribe({
        group: group('handover'),
        startFrom: 'earliest',
        handlers: [on(contract, (event) => finishedByB.add(event.id))],
      });
      await started(busB);
      await wait(
        () => sent.every((envelope) => finishedByB.has(envelope.id)),
        'every event to be handled by the second member',
      );
    });

    it('stops gracefully: running handlers finish and are not redelivered', async () => {
      const { contract, group } = await setup();
      const finished = new Tally();
      const takenIds = new Tally();
      const busA = await newBus();
      busA.subscribe({
        group: group('graceful'),
        startFrom: 'earliest',
        concurrency: 5,
        handlers: [
          on(contract, async (event) => {
            takenIds.add(event.id);
            await sleep(300);
            finished.add(event.id);
          }),
        ],
      });
      await started(busA);
      await busA.publishBatch(
        Array.from({ length: 5 }, (_, seq) => busA.prepare(contract, { key: `g${seq}`, seq })),
      );
      await wait(() => takenIds.distinct === 5, 'five handlers to start');
      await busA.stop({ deadlineMs: 10_000 });
      expect(finished.total).toBe(5);
      // A sentinel published now arrives after anything the group would redeliver.
      const redelivered: number[] = [];
      const busB = await newBus();
      busB.subscribe({
        group: group('graceful'),
        startFrom: 'earliest',
        handlers: [on(contract, (event) => void redelivered.push(event.data.seq))],
      });
      await started(busB);
      await busB.publish(contract, { key: 'sentinel', seq: 999 });
      await wait(() => redelivered.includes(999), 'the sentinel after the restart');
      expect(redelivered).toEqual([999]);
    });

    it(
      `moves a ${batchSize}-event batch with nothing lost or duplicated`,
      async () => {
        const { contract, group } = await setup();
        const tally = new Tally();
        const bus = await newBus();
        bus.subscribe({
          group: group('bulk'),
          startFrom: 'earliest',
          concurrency: 32,
          handlers: [on(contract, (event) => tally.add(event.id))],
        });
        await started(bus);
        const ids: string[] = [];
        for (let offset = 0; offset < batchSize; offset += 500) {
          const count = Math.min(500, batchSize - offset);
          const sent = await bus.publishBatch(
            Array.from({ length: count }, (_, i) =>
              bus.prepare(contract, { key: `b${(offset + i) % 97}`, seq: offset + i }),
            ),
          );
          ids.push(...sent.map((envelope) => envelope.id));
        }
        await wait(() => tally.distinct === batchSize, `${batchSize} distinct events`);
        await sleep(300);
        expect(tally.total).toBe(batchSize);
        expect(tally.duplicates()).toEqual([]);
        expect(ids.every((id) => tally.has(id))).toBe(true);
      },
      Math.max(testTimeoutMs, 120_000),
    );

    it('retries reach only the group that failed', async () => {
      const { contract, group } = await setup();
      const calls = { failing: 0, healthy: 0 };
      const bus = await newBus();
      bus.subscribe({
        group: group('retry-failing'),
        startFrom: 'earliest',
        retry: { immediate: 0, delayed: [retryDelayMs] },
        handlers: [
          on(contract, () => {
            if (++calls.failing === 1) throw new Error('once');
          }),
        ],
      });
      bus.subscribe({
        group: group('retry-healthy'),
        startFrom: 'earliest',
        handlers: [on(contract, () => void calls.healthy++)],
      });
      await started(bus);
      await bus.publish(contract, { key: 'r', seq: 1 });
      await wait(() => calls.failing === 2, 'the retried delivery');
      await sleep(retryDelayMs * 3);
      expect(calls).toEqual({ failing: 2, healthy: 1 });
    });

    it('delivers events without a partition key', async () => {
      const { group } = await setup();
      const Keyless = defineEvent({
        type: `${uniqueNamespace()}.keyless`,
        schema: z.object({ seq: z.number() }),
        description: 'An event without a partition key',
      });
      await options.prepareChannels?.([Keyless.channel]);
      const seen = new Tally();
      const bus = await newBus();
      bus.subscribe({
        group: group('keyless'),
        startFrom: 'earliest',
        handlers: [on(Keyless, (event) => seen.add(event.id))],
      });
      await started(bus);
      const sent = await bus.publishBatch(
        Array.from({ length: 20 }, (_, seq) => bus.prepare(Keyless, { seq })),
      );
      expect(sent.every((envelope) => envelope.partitionkey === undefined)).toBe(true);
      await wait(() => seen.distinct === 20, '20 keyless events');
      expect(seen.total).toBe(20);
    });

    it("starts a new group at the end of the log by default ('latest')", async () => {
      const { contract, group } = await setup();
      const early = await newBus();
      await early.publish(contract, { key: 'old', seq: 1 });
      const seen: number[] = [];
      const bus = await newBus();
      bus.subscribe({
        group: group('latest'),
        handlers: [on(contract, (event) => void seen.push(event.data.seq))],
      });
      await started(bus);
      await bus.publish(contract, { key: 'new', seq: 2 });
      await wait(() => seen.includes(2), 'the event published after the group started');
      expect(seen).toEqual([2]);
    });

    it('rejects publish after close with a typed error', async () => {
      const transport = await options.createTransport();
      await transport.connect();
      await transport.close();
      await transport.close(); // idempotent
      const { contract } = await setup();
      const bus = createBus({ source: '/conformance', transport });
      await expect(bus.publish(contract, { key: 'closed', seq: 1 })).rejects.toMatchObject({
        code: ErrorCodes.TRANSPORT_CLOSED,
      });
    });
  });
}
