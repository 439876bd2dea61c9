import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../contract/define-event';
import { ErrorCodes } from '../errors/error-codes';
import { createEnvelope } from './create-envelope';
import { isUuidV7, uuidv7 } from './uuid-v7';

const Thing = defineEvent({
  type: 'thing.made',
  schema: z.object({ id: z.string() }),
  description: 'x',
  partitionKey: (thing) => thing.id,
});

describe('uuidv7', () => {
  it('makes RFC 9562 version 7 ids that carry the time', () => {
    const now = Date.UTC(2026, 10, 22, 12, 0, 0);
    const id = uuidv7(now + 10_000);
    expect(isUuidV7(id)).toBe(true);
    expect(Number.parseInt(id.replace('-', '').slice(0, 12), 16)).toBe(now + 10_000);
  });

  it('is unique and sorts in creation order, even many per millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('counts ids of one millisecond in the 12-bit field, then carries into the time', () => {
    // Far ahead of the clock so this millisecond starts a fresh counter.
    const ms = Date.now() + 3_600_000;
    const ids = Array.from({ length: 5_000 }, () => uuidv7(ms));
    const timeOf = (id: string) => Number.parseInt(id.replace('-', '').slice(0, 12), 16);
    const counterOf = (id: string) => Number.parseInt(id.slice(15, 18), 16);
    expect(ids.every(isUuidV7)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The counter starts below 2048, so 5,000 ids overflow 4,095 once.
    expect(timeOf(ids[0] as string)).toBe(ms);
    expect(timeOf(ids.at(-1) as string)).toBe(ms + 1);
    const carried = ids.findIndex((id) => timeOf(id) === ms + 1);
    expect(counterOf(ids[carried - 1] as string)).toBe(0xfff);
    expect(counterOf(ids[carried] as string)).toBe(0);
    expect(counterOf(ids[1] as string)).toBe(counterOf(ids[0] as string) + 1);
  });

  it('stays ordered when the clock steps back', () => {
    const first = uuidv7(Date.now() + 60_000);
    const second = uuidv7(Date.now());
    expect(second > first).toBe(true);
  });

  it('rejects other formats', () => {
    expect(isUuidV7('6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(false);
    expect(isUuidV7('not-an-id')).toBe(false);
  });
});

describe('createEnvelope', () => {
  it('fills id, time, correlation and partition key', () => {
    const before = Date.now();
    const envelope = createEnvelope(Thing, { id: 't-1' }, '/svc');
    expect(isUuidV7(envelope.id)).toBe(true);
    expect(envelope).toMatchObject({
      specversion: '1.0',
      source: '/svc',
      type: 'thing.made',
      datacontenttype: 'application/json',
      dataversion: 1,
      correlationid: envelope.id,
      partitionkey: 't-1',
      data: { id: 't-1' },
    });
    expect(Date.parse(envelope.time ?? '')).toBeGreaterThanOrEqual(before - 1);
  });

  it('keeps given options', () => {
    const envelope = createEnvelope(Thing, { id: 't' }, '/svc', {
      id: 'fixed',
      time: new Date('2026-03-04T05:06:07.089Z'),
      partitionKey: 'other',
      correlationId: 'c',
      causationId: 'p',
      sequence: 0,
    });
    expect(envelope).toMatchObject({
      id: 'fixed',
      time: '2026-03-04T05:06:07.089Z',
      partitionkey: 'other',
      correlationid: 'c',
      causationid: 'p',
      sequence: 0,
    });
  });

  it.each([
    [{ id: '' }, /empty/],
    [{ traceparent: 'nope' }, /traceparent/],
    // Valid in shape, but no trace (all-zero trace id) or a forbidden version: a receiver ignores them.
    [{ traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` }, /traceparent/],
    [{ traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, /traceparent/],
    [{ sequence: -1 }, /sequence/],
    [{ sequence: 1.5 }, /sequence/],
    [{ time: 'not a date' }, /time/],
  ])('rejects bad options %j with EDAKIT_INVALID_OPTIONS', (options, message) => {
    expect(() => createEnvelope(Thing, { id: 't' }, '/svc', options)).toThrowError(message);
    expect(() => createEnvelope(Thing, { id: 't' }, '/svc', options)).toThrowError(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTIONS }),
    );
  });
});
