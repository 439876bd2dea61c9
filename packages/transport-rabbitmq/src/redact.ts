import type { Options } from 'amqplib';

/**
 * The broker address without secrets: `amqp://user:***@host:5672/vhost`.
 * Used in every log line, error and health detail that names the broker.
 */
export function describeBroker(url: string | Options.Connect): string {
  if (typeof url === 'string') return redactUrl(url);
  const protocol = url.protocol ?? 'amqp';
  const user = url.username ?? 'guest';
  const port = url.port === undefined ? '' : `:${url.port}`;
  const vhost = url.vhost === undefined ? '' : `/${encodeURIComponent(url.vhost)}`;
  return `${protocol}://${user}:***@${url.hostname ?? 'localhost'}${port}${vhost}`;
}

/** Replaces the password of every `scheme://user:password@` in `text` with `***`. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@');
}

/**
 * Removes a known secret from free text (an error message from a library may
 * quote it), then any URL credentials.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let clean = text;
  // Longest first: a secret that contains another is scrubbed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 3) clean = clean.split(secret).join('***');
  }
  return redactUrl(clean);
}

/**
 * The password(s) an options value carries, to scrub from messages: as
 * written, percent-decoded, and as amqplib sends it (`unescape`). A malformed
 * escape (`p%zz`) or a URL that `URL()` refuses still yields the password as
 * written, and every escape that can be decoded.
 */
export function secretsOf(url: string | Options.Connect): string[] {
  if (typeof url !== 'string') {
    const secrets = [url.password, url.credentials?.password];
    return secrets.filter((secret): secret is string => typeof secret === 'string');
  }
  const written = new Set<string>();
  try {
    const parsed = new URL(url).password;
    if (parsed) written.add(parsed);
  } catch {
    // Not a WHATWG URL (a space in the host, for instance): the text below still names it.
  }
  const match = USERINFO.exec(url)?.[1];
  if (match) written.add(match);
  const secrets = new Set<string>();
  for (const password of written) {
    secrets.add(password);
    secrets.add(percentDecoded(password));
    secrets.add(unescaped(password));
  }
  secrets.delete('');
  return [...secrets];
}

/** `scheme://user:password@`, the password as written. */
const USERINFO = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]*)@/i;

/** decodeURIComponent, run by run: a malformed escape stays as written instead of throwing. */
function percentDecoded(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** What amqplib sends for a URL's password: `unescape` (Latin-1 `%XX` and `%uXXXX`). */
function unescaped(text: string): string {
  return text.replace(/%u([0-9a-f]{4})|%([0-9a-f]{2})/gi, (_, wide?: string, byte?: string) =>
    String.fromCharCode(Number.parseInt((wide ?? byte) as string, 16)),
  );
}
