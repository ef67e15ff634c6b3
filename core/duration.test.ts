import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

const ttlBounds = { minMs: 1000, maxMs: 30 * 86_400_000 };

describe('parseDuration', () => {
  it('reads a whole number and one unit', () => {
    expect(parseDuration('30s', ttlBounds)).toEqual({ ok: true, value: 30_000 });
    expect(parseDuration('10m', ttlBounds)).toEqual({ ok: true, value: 600_000 });
    expect(parseDuration(' 2h ', ttlBounds)).toEqual({ ok: true, value: 7_200_000 });
    expect(parseDuration('1d', ttlBounds)).toEqual({ ok: true, value: 86_400_000 });
  });

  it.each(['', '30', '10 m', '1.5h', '-1m', '1w', '10M', '1h30m', 'ten minutes'])('refuses %j with the forms it expects', (text) => {
    const parsed = parseDuration(text, ttlBounds);
    expect(parsed).toMatchObject({ ok: false, reason: 'invalid_duration' });
    expect(!parsed.ok && parsed.detail).toContain('e.g. 30s, 10m, 2h, 1d');
  });

  it('refuses a duration outside its bounds, naming them', () => {
    expect(parseDuration('0s', ttlBounds)).toEqual({ ok: false, reason: 'duration_out_of_range', detail: '"0s": must be between 1s and 30d' });
    expect(parseDuration('31d', ttlBounds)).toMatchObject({ ok: false, reason: 'duration_out_of_range' });
    expect(parseDuration('30d', ttlBounds)).toEqual({ ok: true, value: 30 * 86_400_000 });
    expect(parseDuration('999999999d', ttlBounds)).toMatchObject({ ok: false, reason: 'duration_out_of_range' });
  });

  it('formats milliseconds in the largest whole unit', () => {
    expect([formatDuration(600_000), formatDuration(90_000), formatDuration(86_400_000), formatDuration(1500), formatDuration(0)]).toEqual(['10m', '90s', '1d', '1500ms', '0ms']);
  });
});
