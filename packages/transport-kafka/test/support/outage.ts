import { type Bus, EdakitError, type PreparedEvent } from '@edakit/core';
import { sleep } from '../../../../test-support/bus';

export interface OutageOptions {
  readonly events: number;
  readonly chunk: number;
  /** Start the outage once this many events are acknowledged. */
  readonly outageAfter: number;
  /** The outage itself (kill a broker, ...); publishing goes on meanwhile. */
  readonly outage: () => Promise<void>;
  /** Pause before re-sending a rejected chunk. */
  readonly retryPauseMs: number;
  readonly prepare: (seq: number) => PreparedEvent;
}

export interface OutageRun {
  /** Ids of every event whose publish resolved. */
  readonly acknowledged: Set<string>;
  /** One entry per rejected publish call: its EDAKIT_* code, or "untyped: <message>". */
  readonly rejections: string[];
  /** Acknowledged when the outage started. */
  readonly acknowledgedAtOutage: number;
  /** Acknowledged after the outage() promise resolved. */
  readonly acknowledgedAfterOutage: number;
  readonly elapsedMs: number;
}

/**
 * Publishes `events` in chunks while an outage happens: a rejected chunk is
 * sent again with the same events (same ids) until it is acknowledged, as a
 * careful producer would, and every rejection is recorded.
 */
export async function publishThroughOutage(bus: Bus, options: OutageOptions): Promise<OutageRun> {
  const acknowledged = new Set<string>();
  const rejections: string[] = [];
  let outage: Promise<void> | undefined;
  let outageOver = false;
  let acknowledgedAtOutage = -1;
  let acknowledgedAfterOutage = 0;
  const startedAt = Date.now();
  for (let from = 0; from < options.events; from += options.chunk) {
    const chunk: PreparedEvent[] = [];
    for (let seq = from; seq < Math.min(from + options.chunk, options.events); seq++) {
      chunk.push(options.prepare(seq));
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await bus.publishBatch(chunk);
        for (const event of chunk) acknowledged.add(event.envelope.id);
        if (outageOver) acknowledgedAfterOutage += chunk.length;
        break;
      } catch (error) {
        rejections.push(
          EdakitError.isInstance(error) ? error.code : `untyped: ${(error as Error)?.message}`,
        );
        if (attempt >= 120) throw error;
        await sleep(options.retryPauseMs);
      }
    }
    if (!outage && acknowledged.size >= options.outageAfter) {
      acknowledgedAtOutage = acknowledged.size;
      outage = options.outage().then(() => {
        outageOver = true;
      });
    }
  }
  await outage;
  return {
    acknowledged,
    rejections,
    acknowledgedAtOutage,
    acknowledgedAfterOutage,
    elapsedMs: Date.now() - startedAt,
  };
}
