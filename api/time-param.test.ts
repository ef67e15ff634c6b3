import { describe, expect, it } from 'vitest';
import { parseTimeParam } from './time-param.ts';

const nowMs = Date.parse('2026-12-02T12:00:00Z');

describe('parseTimeParam', () => {
  it('reads RFC 3339 times with a zone', () => {
    expect(parseTimeParam('2026-12-02T08:00:00Z', nowMs)).toEqual({ ok: true, value: Date.parse('2026-12-02T08:00:00Z') });
    expect(parseTimeParam('2026-12-02T09:30:00.250+01:30', nowMs)).toEqual({ ok: true, value: Date.parse('2026-12-02T08:00:00.250Z') });
    expect(parseTimeParam('2026-12-02t08:00:00z', nowMs)).toEqual({ ok: true, value: Date.parse('2026-12-02T08:00:00Z') });
  });

  it('reads now and times relative to it', () => {
    expect(parseTimeParam('now', nowMs)).toEqual({ ok: true, value: nowMs });
    expect(parseTimeParam('now-15m', nowMs)).toEqual({ ok: true, value: nowMs - 15 * 60_000 });
    expect(parseTimeParam('now-2d', nowMs)).toEqual({ ok: true, value: nowMs - 2 * 86_400_000 });
  });

  it('refuses times without a zone, other relative forms and impossible dates', () => {
    for (const text of ['2026-12-02T08:00:00', '2026-12-02', 'now+1h', 'now-1w', '-1h', '1764662400000', '2026-13-02T08:00:00Z', '', "now'; drop table x"]) {
      expect(parseTimeParam(text, nowMs), text).toMatchObject({ ok: false, reason: 'invalid_time' });
    }
  });
});
