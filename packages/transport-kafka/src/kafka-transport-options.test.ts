import { ErrorCodes } from '@edakit/core';
import { describe, expect, it } from 'vitest';
import { KafkaTransport } from './kafka-transport';
import type { KafkaTransportOptions } from './kafka-transport-options';

const client = { clientId: 'options-test', brokers: ['127.0.0.1:9092'] };

describe('KafkaTransport options', () => {
  it('publishes in binary mode unless told otherwise', () => {
    expect(new KafkaTransport({ client }).contentMode).toBe('binary');
    expect(new KafkaTransport({ client, contentMode: 'structured' }).contentMode).toBe(
      'structured',
    );
  });

  it('refuses an unknown content mode with EDAKIT_INVALID_OPTIONS, naming the value', () => {
    const options = { client, contentMode: 'compact' } as unknown as KafkaTransportOptions;
    expect(() => new KafkaTransport(options)).toThrowError(
      expect.objectContaining({
        code: ErrorCodes.INVALID_OPTIONS,
        message: 'KafkaTransport: contentMode must be "binary" or "structured", got "compact"',
      }),
    );
  });
});
