import { InvalidOptionsError, type Logger, messageOf, silentLogger } from '@edakit/core';
import type { OutboxClaim, OutboxStats, OutboxStore, SettleRequest } from '../outbox-store';
import { LatencyWindow } from './latency-window';
import { type ClaimOutcome, type Publisher, publishClaim } from './publish-claim';
import { type RelayRetryOptions, retrySchedule } from './retry-schedule';

/** Something that says "rows were committed": a CommitSignal, a LISTEN connection. */
export interface WakeSource {
  subscribe(listener: () => void): () => void;
}

export interface RelayOptions {
  readonly store: OutboxStore;
  /** The transport the bus publishes with (its batched `publish`). */
  readonly transport: Publisher;
  /** Most rows per claim and per publish call (default 1,000). */
  readonly batchSize?: number;
  /** Poll interval when idle: the safety net under every wake-up (default 500 ms). */
  readonly pollIntervalMs?: number;
  /**
   * Claims worked on at once (default 2): the next claim is read and the last
   * one settled while a batch is on its way to the broker. Claims hold
   * different keys, so per-key order does not depend on it.
   */
  readonly concurrency?: number;
  /** How long a claim reserves its keys (default 30 s). Longer than a publish can take. */
  readonly leaseMs?: number;
  readonly retry?: RelayRetryOptions;
  /** Published rows older than this are deleted (default 1 h); 0 deletes them at the next prune. */
  readonly retentionMs?: number;
  /** Rows deleted per prune statement (default 5,000); a prune runs every `pruneIntervalMs` (default 60 s). */
  readonly pruneBatch?: number;
  readonly pruneIntervalMs?: number;
  /** In-process commit signals and LISTEN/NOTIFY listeners that wake the relay early. */
  readonly wakeOn?: readonly WakeSource[];
  readonly logger?: Logger;
}

/** Counters since start, and the latency of the last few thousand rows. */
export interface RelayMetrics {
  readonly published: number;
  readonly failedAttempts: number;
  readonly dead: number;
  readonly fenced: number;
  readonly claims: number;
  readonly outages: number;
  /** Row creation (commit) to broker confirm, ms. */
  readonly publishLatencyMs: { readonly p50: number; readonly p99: number };
}

export interface Relay {
  start(): void;
  /** Finishes the claim in hand (publish and settle), then stops. */
  stop(): Promise<void>;
  /** Looks for rows now instead of at the next poll. */
  wake(): void;
  metrics(): RelayMetrics;
  /** The store's figures plus this relay's counters. */
  stats(): Promise<OutboxStats & { readonly relay: RelayMetrics }>;
}

export function createRelay(options: RelayOptions): Relay {
  const batchSize = positive('batchSize', options.batchSize ?? 1000);
  const pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs ?? 500);
  const leaseMs = positive('leaseMs', options.leaseMs ?? 30_000);
  const concurrency = positive('concurrency', options.concurrency ?? 2);
  const retentionMs = options.retentionMs ?? 3_600_000;
  if (!Number.isInteger(retentionMs) || retentionMs < 0) {
    throw new InvalidOptionsError(`relay retentionMs must be an integer >= 0, got ${retentionMs}`, {
      option: 'retentionMs',
      value: retentionMs,
    });
  }
  const pruneBatch = positive('pruneBatch', options.pruneBatch ?? 5000);
  const pruneIntervalMs = positive('pruneIntervalMs', options.pruneIntervalMs ?? 60_000);
  const schedule = retrySchedule(options.retry);
  const logger = options.logger ?? silentLogger;
  const { store, transport } = options;
  const latency = new LatencyWindow();
  const counts = { published: 0, failedAttempts: 0, dead: 0, fenced: 0, claims: 0, outages: 0 };

  let running = false;
  let loops: Promise<void>[] = [];
  /** Bumped by every wake-up: a worker that saw it change since its last look does not sleep. */
  let wakes = 0;
  const sleepers = new Set<() => void>();
  let unsubscribe: (() => void)[] = [];
  let pruneTimer: NodeJS.Timeout | undefined;
  let outageDelay = 0;

  const wake = (): void => {
    wakes++;
    for (const sleeper of sleepers) sleeper();
  };

  /** Waits `ms` unless stopped first; wake-ups do not cut it short (outage back-off). */
  const pausers = new Set<() => void>();
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (!running) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        pausers.delete(done);
        resolve();
      }
      pausers.add(done);
    });

  /**
   * The outage back-off, cut short once the transport reports itself up again
   * (checked every 250 ms when it has `health`), so a long back-off does not
   * outlast the outage.
   */
  const outagePause = async (ms: number): Promise<void> => {
    const until = Date.now() + ms;
    if (transport.health === undefined) return pause(ms);
    while (running && Date.now() < until) {
      await pause(Math.min(250, until - Date.now()));
      const up = await transport.health().then(
        (health) => health.status === 'up',
        () => false,
      );
      if (up) return;
    }
  };

  /** Waits `ms` unless woken (since `seen`) or stopped first. */
  const idle = (ms: number, seen = wakes): Promise<void> =>
    new Promise((resolve) => {
      if (wakes !== seen || !running) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      }
      sleepers.add(done);
    });

  const settle = async (claim: OutboxClaim, request: SettleRequest): Promise<void> => {
    // The rows are on the broker: keep trying to record that while the lease
    // holds, else another relay publishes them again (a duplicate, not a loss).
    const deadline = Date.now() + leaseMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await store.settle(claim, request);
        counts.fenced += result.fenced;
        if (result.fenced > 0) {
          logger.warn(
            { fenced: result.fenced, records: claim.records.length },
            'outbox relay lost its lease before settling; another relay owns those keys',
          );
        }
        return;
      } catch (error) {
        if (Date.now() + 1000 > deadline) throw error;
        logger.warn(
          { attempt, error: messageOf(error) },
          'outbox relay could not settle; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * attempt)));
      }
    }
  };

  const toSettle = (outcome: ClaimOutcome): SettleRequest => {
    const now = Date.now();
    return {
      published: outcome.published,
      failed: outcome.failed.map(({ record, error }) => ({
        record,
        error,
        retryAt: schedule(record.attempts + 1, now),
      })),
    };
  };

  /** One claim: claim, publish outside any transaction, settle. True when rows were found. */
  const step = async (): Promise<boolean> => {
    const claim = await store.claim({ limit: batchSize, leaseMs });
    if (claim === undefined) return false;
    counts.claims++;
    const outcome = await publishClaim(transport, claim.records);
    const confirmedAt = Date.now();
    for (const record of outcome.published) latency.add(confirmedAt - record.createdAt.getTime());
    const request = toSettle(outcome);
    await settle(claim, request);
    counts.published += outcome.published.length;
    counts.failedAttempts += request.failed.length;
    const dead = request.failed.filter((failure) => failure.retryAt === undefined);
    counts.dead += dead.length;
    for (const failure of request.failed) {
      const fields = {
        eventId: failure.record.id,
        eventType: failure.record.type,
        key: failure.record.key,
        channel: failure.record.channel,
        attempts: failure.record.attempts + 1,
        error: failure.error,
      };
      if (failure.retryAt === undefined)
        logger.error(fields, 'outbox row is dead: its key is blocked until it is replayed');
      else
        logger.warn(
          { ...fields, retryAt: failure.retryAt.toISOString() },
          'outbox row failed to publish; will retry',
        );
    }
    if (outcome.outage !== undefined) {
      counts.outages++;
      outageDelay = Math.min(30_000, Math.max(250, outageDelay * 2));
      logger.warn(
        { error: outcome.outage, retryInMs: outageDelay },
        'outbox relay cannot publish: broker unavailable',
      );
      await outagePause(outageDelay);
    } else {
      outageDelay = 0;
    }
    return true;
  };

  const run = async (): Promise<void> => {
    let errorDelay = 0;
    while (running) {
      const seen = wakes;
      try {
        const found = await step();
        errorDelay = 0;
        if (!found) await idle(pollIntervalMs, seen);
      } catch (error) {
        errorDelay = Math.min(30_000, Math.max(100, errorDelay * 2));
        logger.error(
          { error: messageOf(error), retryInMs: errorDelay },
          'outbox relay step failed',
        );
        await idle(errorDelay);
      }
    }
  };

  const prune = async (): Promise<void> => {
    try {
      let deleted = pruneBatch;
      // Bounded batches, a short pause between them, never a long delete.
      for (let round = 0; running && deleted === pruneBatch && round < 100; round++) {
        deleted = await store.prune(retentionMs, pruneBatch);
      }
    } catch (error) {
      logger.warn({ error: messageOf(error) }, 'outbox prune failed; retried at the next interval');
    }
  };

  const metrics = (): RelayMetrics => {
    const [p50, p99] = latency.percentiles(50, 99);
    return { ...counts, publishLatencyMs: { p50, p99 } };
  };

  return {
    start() {
      if (running) return;
      running = true;
      unsubscribe = (options.wakeOn ?? []).map((source) => source.subscribe(wake));
      pruneTimer = setInterval(() => void prune(), pruneIntervalMs);
      pruneTimer.unref();
      loops = Array.from({ length: concurrency }, () => run());
    },
    async stop() {
      if (!running) return;
      running = false;
      for (const off of unsubscribe) off();
      unsubscribe = [];
      clearInterval(pruneTimer);
      for (const sleeper of [...sleepers, ...pausers]) sleeper();
      await Promise.all(loops);
    },
    wake,
    metrics,
    async stats() {
      return { ...(await store.stats()), relay: metrics() };
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionsError(`relay ${name} must be a positive integer, got ${value}`, {
      option: name,
      value,
    });
  }
  return value;
}
