import type { IHeaders } from 'kafkajs';

/** When a retried message may be handled again (epoch ms), on retry topics. */
export const RETRY_DUE_AT_HEADER = 'edakit-retry-due-at';
/** On a DLQ marker record: the dead letter (topic/partition/offset) it redrove. */
export const REDRIVEN_HEADER = 'edakit-redriven';

/** kafkajs headers (Buffer, string, or arrays of them) as plain strings. */
export function readHeaders(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (!headers) return result;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) continue;
    // Buffer#toString() without arguments is its direct UTF-8 path.
    result[name] = typeof first === 'string' ? first : first.toString();
  }
  return result;
}
