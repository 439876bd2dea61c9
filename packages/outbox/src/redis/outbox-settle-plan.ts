import type { OutboxClaim, SettleRequest } from '../outbox-store';

/** Longest error text kept per failed row. */
const MAX_ERROR_LENGTH = 2000;

/** What the settle script does for one claimed key (see outbox-settle-script.ts). */
export interface KeyPlan {
  /** The key. */
  k: string;
  /** Rows of the key the claim took: the settle looks for ids among them only. */
  n: number;
  /** Envelope ids published, in order. */
  p: string[];
  /** The row that failed: envelope id, error, retry delay in ms (-1: dead). */
  f?: { i: string; e: string; d: number };
}

export interface SettlePlan {
  readonly keys: KeyPlan[];
  /** Rows named in the request that the claim does not hold: they count as fenced. */
  readonly stray: number;
}

/**
 * Groups a settle request by the claim's keys. Every claimed key gets a plan,
 * reported or not, so the settle ends every lease of the claim.
 */
export function settlePlan(claim: OutboxClaim, request: SettleRequest, now: number): SettlePlan {
  const plans = new Map<string, KeyPlan>();
  for (const record of claim.records) {
    const plan = plans.get(record.key) ?? { k: record.key, n: 0, p: [] };
    plan.n += 1;
    plans.set(record.key, plan);
  }
  let stray = 0;
  for (const record of request.published) {
    const plan = plans.get(record.key);
    if (plan) plan.p.push(record.id);
    else stray += 1;
  }
  for (const { record, error, retryAt } of request.failed) {
    const plan = plans.get(record.key);
    if (!plan) {
      stray += 1;
      continue;
    }
    // A delay, not a time: the script adds it to the server's clock, so the
    // relay's clock skew does not move retries.
    const delay = retryAt === undefined ? -1 : Math.max(0, Math.ceil(retryAt.getTime() - now));
    plan.f = { i: record.id, e: String(error).slice(0, MAX_ERROR_LENGTH), d: delay };
  }
  return { keys: [...plans.values()], stray };
}
