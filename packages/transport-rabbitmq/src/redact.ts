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
  for (const secret of secrets) {
    if (secret.length >= 3) clean = clean.split(secret).join('***');
  }
  return redactUrl(clean);
}

/** The password(s) an options value carries, to scrub from messages. */
export function secretsOf(url: string | Options.Connect): string[] {
  if (typeof url !== 'string') {
    const secrets = [url.password, url.credentials?.password];
    return secrets.filter((secret): secret is string => typeof secret === 'string');
  }
  try {
    const parsed = new URL(url);
    return parsed.password
      ? [parsed.password, decodeURIComponent(parsed.password)].filter((s) => s !== '')
      : [];
  } catch {
    return [];
  }
}
