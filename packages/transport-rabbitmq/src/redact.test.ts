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
});
