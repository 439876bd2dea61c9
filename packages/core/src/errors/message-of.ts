/**
 * Whatever was thrown, as text. Never throws itself: cyclic, null-prototype or
 * otherwise hostile values still give a message.
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return String(error.message);
  if (typeof error === 'string') return error;
  try {
    const json = JSON.stringify(error);
    if (json !== undefined) return json;
  } catch {
    // fall through
  }
  try {
    return String(error);
  } catch {
    return '[unprintable value]';
  }
}
