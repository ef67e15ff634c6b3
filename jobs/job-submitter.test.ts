import { describe, expect, it } from 'vitest';
import type { JobRequest } from '../core/job.ts';
import { jobIdFor, requestHash } from './job-submitter.ts';

describe('job identity', () => {
  it('derives one job id from a namespace and key, a new one without a key', () => {
    const id = jobIdFor({ namespace: 'token-1', key: 'abc' });
    expect(id).toMatch(/^j[0-9a-f]{32}$/);
    expect(jobIdFor({ namespace: 'token-1', key: 'abc' })).toBe(id);
    expect(jobIdFor({ namespace: 'token-2', key: 'abc' })).not.toBe(id);
    expect(jobIdFor()).not.toBe(jobIdFor());
  });

  it('hashes equal requests equally whatever their field order, and different ones differently', () => {
    const a: JobRequest = { kind: 'redrive', filter: { reason: 'x', deviceId: 'd' }, maxRatePerSec: 0 };
    const b = { maxRatePerSec: 0, filter: { deviceId: 'd', reason: 'x' }, kind: 'redrive' } as JobRequest;
    expect(requestHash(a)).toBe(requestHash(b));
    expect(requestHash({ ...a, maxRatePerSec: 1 })).not.toBe(requestHash(a));
  });
});
