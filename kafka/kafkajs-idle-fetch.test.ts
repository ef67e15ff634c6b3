import { describe, expect, it } from 'vitest';
import { nextFetch, useIdleFetch } from './kafkajs-idle-fetch.ts';

const settings = { minBytes: 262_144, maxWaitMs: 50, idleMaxWaitMs: 1000 };
const batching = { minBytes: 262_144, maxWaitTime: 50 };
const longPoll = { minBytes: 1, maxWaitTime: 1000 };

describe('idle long-poll', () => {
  it('wraps the kafkajs version we pin', () => {
    expect(useIdleFetch('unit-test-group', settings)).toBe('patched');
  });

  it('batches until every broker answered empty, then long-polls until one brings records', () => {
    const lastEmpty = new Map<string, boolean>();
    expect(nextFetch(lastEmpty, settings)).toEqual(batching); // nothing fetched yet
    lastEmpty.set('1', true);
    lastEmpty.set('2', false);
    expect(nextFetch(lastEmpty, settings)).toEqual(batching);
    lastEmpty.set('2', true);
    expect(nextFetch(lastEmpty, settings)).toEqual(longPoll);
    lastEmpty.set('1', false);
    expect(nextFetch(lastEmpty, settings)).toEqual(batching);
  });
});
