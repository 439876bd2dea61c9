import { messageOf, type OutgoingMessage, type Transport } from '@edakit/core';
import type { OutboxRecord } from '../outbox-record';

/**
 * What the relay needs of a transport: `publish`, and `health` when it has
 * one, to tell a broker outage from a poison row when a lone key fails.
 */
export type Publisher = Pick<Transport, 'publish'> & Partial<Pick<Transport, 'health'>>;

/** What publishing one claim achieved. */
export interface ClaimOutcome {
  readonly published: readonly OutboxRecord[];
  /** The first failing row of each key that failed on its own. */
  readonly failed: readonly { readonly record: OutboxRecord; readonly error: string }[];
  /** Set when nothing could be published at all: the broker, not a row, is the problem. */
  readonly outage: string | undefined;
}

export function toOutgoing(record: OutboxRecord): OutgoingMessage {
  return {
    channel: record.channel,
    type: record.type,
    message: {
      ...(record.unkeyed === true ? {} : { key: record.key }),
      headers: record.headers,
      body: record.body,
    },
  };
}

/**
 * Publishes a claim in one transport call. When that fails, finds out who is
 * to blame: each key's run is published on its own (row by row when the run
 * fails), so a poison row fails only its key and the rows before it still go
 * out. Failing keys with no success at all mean the broker is down: nothing is
 * blamed on a row then, and the rest of the claim is left for later.
 */
export async function publishClaim(
  transport: Publisher,
  records: readonly OutboxRecord[],
): Promise<ClaimOutcome> {
  try {
    await transport.publish(records.map(toOutgoing));
    return { published: records, failed: [], outage: undefined };
  } catch (error) {
    return isolate(transport, shuffled(runsByKey(records)), messageOf(error));
  }
}

async function isolate(
  transport: Publisher,
  runs: readonly (readonly OutboxRecord[])[],
  batchError: string,
): Promise<ClaimOutcome> {
  const published: OutboxRecord[] = [];
  const failed: { record: OutboxRecord; error: string }[] = [];
  for (const run of runs) {
    const result = await publishRun(transport, run);
    published.push(...result.published);
    if (result.failed) failed.push(result.failed);
    // Two keys failed and not one row went out: an outage, not two poison rows.
    if (published.length === 0 && failed.length >= 2) {
      return { published: [], failed: [], outage: failed[0]?.error ?? batchError };
    }
  }
  // A lone failing key cannot tell a poison row from an outage by itself: ask
  // the transport. Not up means the broker is the problem, not the row.
  if (published.length === 0 && failed.length === 1 && !(await transportIsUp(transport))) {
    return { published: [], failed: [], outage: failed[0]?.error ?? batchError };
  }
  return { published, failed, outage: undefined };
}

async function publishRun(
  transport: Publisher,
  run: readonly OutboxRecord[],
): Promise<{ published: OutboxRecord[]; failed?: { record: OutboxRecord; error: string } }> {
  if (run.length > 1) {
    try {
      await transport.publish(run.map(toOutgoing));
      return { published: [...run] };
    } catch {
      // Fall through to row by row, to find the row at fault.
    }
  }
  const published: OutboxRecord[] = [];
  for (const record of run) {
    try {
      await transport.publish([toOutgoing(record)]);
      published.push(record);
    } catch (error) {
      return { published, failed: { record, error: messageOf(error) } };
    }
  }
  return { published };
}

/** Records arrive sorted by key then sequence; each key's run keeps that order. */
export function runsByKey(records: readonly OutboxRecord[]): OutboxRecord[][] {
  const runs: OutboxRecord[][] = [];
  let current: OutboxRecord[] | undefined;
  for (const record of records) {
    if (current === undefined || current[0]?.key !== record.key) {
      current = [];
      runs.push(current);
    }
    current.push(record);
  }
  return runs;
}

/** Random order, so two poison keys are not always tried first and mistaken for an outage. */
function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

async function transportIsUp(transport: Publisher): Promise<boolean> {
  // Without a health report, blame the row: its back-off keeps an outage
  // from burning its attempts quickly.
  if (transport.health === undefined) return true;
  try {
    return (await transport.health()).status === 'up';
  } catch {
    return false;
  }
}
