import { describe, expect, it } from 'vitest';
import { decodeJobFact, decodeJobSubmission, encodeJobFact, encodeJobSubmission, jobFactKey, jobProgress, jobWireVersion, validateJobRequest, type JobSubmission } from './job.ts';

const submission: JobSubmission = {
  v: jobWireVersion,
  jobId: 'j-1',
  request: { kind: 'redrive', filter: { reason: 'unknown_device', fromMs: 5 }, maxRatePerSec: 100 },
  submittedAtMs: 1,
  submittedBy: 'ops',
  idempotencyKey: 'k',
  requestHash: 'f'.repeat(64),
};

describe('job records', () => {
  it('round-trips a submission and a fact under its key', () => {
    expect(decodeJobSubmission(encodeJobSubmission(submission))).toEqual({ ok: true, value: submission });
    const key = jobFactKey('request', 'j-1');
    expect(key).toBe('request:j-1');
    expect(decodeJobFact(key, encodeJobFact({ type: 'request', value: submission }))).toEqual({ ok: true, value: { type: 'request', value: submission } });
    expect(decodeJobFact('cancel:j-1', null)).toEqual({ ok: true, value: { type: 'tombstone', key: 'cancel:j-1' } });
  });

  it('refuses unknown keys, versions and fields, naming each problem', () => {
    expect(decodeJobFact('other:j-1', Buffer.from('{}'))).toMatchObject({ ok: false, reason: 'unknown_fact' });
    expect(decodeJobSubmission(Buffer.from(JSON.stringify({ ...submission, v: 2 })))).toMatchObject({ ok: false, reason: 'invalid' });
    expect(decodeJobSubmission(Buffer.from('{'))).toMatchObject({ ok: false, reason: 'not_json' });
    const invalid = validateJobRequest({ kind: 'replay', partitions: [], from: { kind: 'offset', offset: 'x' }, to: { kind: 'latest' }, maxRatePerSec: -1 });
    expect(invalid.ok).toBe(false);
    expect(!invalid.ok && invalid.detail).toMatch(/partitions.*from\.offset.*maxRatePerSec/s);
  });

  it('counts progress in offsets over every partition of the plan', () => {
    expect(jobProgress([{ partition: 0, fromOffset: '5', toOffset: '15', nextOffset: '10' }, { partition: 3, fromOffset: '0', toOffset: '10', nextOffset: '10' }])).toEqual({ done: 15, total: 20 });
  });
});
