import { describe, expect, it } from 'vitest';
import { describeBroker, redactSecrets, redactUrl, secretsOf } from './redact';

describe('redaction', () => {
  it('hides the password of a URL', () => {
    expect(describeBroker('amqps://app:s3cr%2Ft@mq.example.com:5671/prod')).toBe(
      'amqps://app:***@mq.example.com:5671/prod',
    );
    expect(redactUrl('failed: amqp://u:p@h/v and amqp://h2')).toBe(
      'failed: amqp://u:***@h/v and amqp://h2',
    );
  });

  it('describes an options object without its password', () => {
    expect(
      describeBroker({
        hostname: 'mq',
        port: 5672,
        username: 'app',
        password: 'hunter22',
        vhost: 'v',
      }),
    ).toBe('amqp://app:***@mq:5672/v');
  });

  it('scrubs a known secret from free text', () => {
    const secrets = secretsOf('amqp://app:s3cr%2Ft@mq/v');
    expect(secrets).toContain('s3cr/t');
    expect(redactSecrets('login with s3cr/t refused', secrets)).toBe('login with *** refused');
    expect(secretsOf({ password: 'hunter22' })).toEqual(['hunter22']);
  });

  it('still scrubs a password with a malformed %-escape from free text', () => {
    // decodeURIComponent throws on "%zz": the password must be scrubbed all the same,
    // as written and as amqplib sends it (unescape: "%41" is "A", "%zz" stays).
    const url = 'amqp://user:p%zzs3cret%41@mq.example.com/v';
    const secrets = secretsOf(url);
    expect(secrets).toEqual(expect.arrayContaining(['p%zzs3cret%41', 'p%zzs3cretA']));
    const message = 'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN';
    expect(redactSecrets(`${message} (password p%zzs3cretA)`, secrets)).toBe(
      `${message} (password ***)`,
    );
    expect(redactSecrets('connect to p%zzs3cret%41 failed', secrets)).toBe('connect to *** failed');
    expect(describeBroker(url)).toBe('amqp://user:***@mq.example.com/v');
  });

  it('finds the password of a URL that URL() cannot parse', () => {
    const url = 'amqp://user:hunter%zz2@bad host:5672/v';
    expect(() => new URL(url)).toThrow();
    expect(secretsOf(url)).toContain('hunter%zz2');
    expect(redactSecrets('bad host refused hunter%zz2', secretsOf(url))).toBe(
      'bad host refused ***',
    );
  });
});
