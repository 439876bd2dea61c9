/** Default largest message, body plus headers: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The sequence extension is a string; zero-padding to the width of
 * Number.MAX_SAFE_INTEGER makes string order equal numeric order.
 */
export function formatSequence(sequence: number): string {
  return String(sequence).padStart(16, '0');
}

export function parseSequence(value: string): number | undefined {
  if (!/^\d{1,16}$/.test(value)) return undefined;
  const sequence = Number(value);
  return Number.isSafeInteger(sequence) ? sequence : undefined;
}

/** JSON media types: `application/json`, `text/json`, `application/x+json`, with parameters. */
export function isJsonContentType(contentType: string): boolean {
  if (contentType === 'application/json') return true; // what edakit writes
  const media = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || media === 'text/json' || media.endsWith('+json');
}

export function isStructuredContentType(contentType: string): boolean {
  if (contentType === 'application/json') return false; // what edakit writes
  return contentType.trim().toLowerCase().startsWith('application/cloudevents');
}
