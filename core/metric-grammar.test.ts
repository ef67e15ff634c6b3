import { describe, expect, it } from 'vitest';
import { isValidMetricName, isValidUnit } from './metric-grammar.ts';

describe('isValidMetricName', () => {
  it('accepts the allowed alphabet and refuses the rest', () => {
    expect(isValidMetricName('Temp_1.a-b')).toBe(true);
    expect(isValidMetricName('')).toBe(false);
    expect(isValidMetricName('ü')).toBe(false);
    expect(isValidMetricName('a\n')).toBe(false);
  });

  it('allows 64 characters, not 65', () => {
    expect(isValidMetricName('x'.repeat(64))).toBe(true);
    expect(isValidMetricName('x'.repeat(65))).toBe(false);
  });
});

describe('isValidUnit', () => {
  it('accepts 1..32 characters of any kind', () => {
    for (const unit of ['°C', 'm/s', '%', 'k W h', 'u'.repeat(32)]) expect(isValidUnit(unit), unit).toBe(true);
  });

  it('refuses an empty unit and one of 33 characters', () => {
    expect(isValidUnit('')).toBe(false);
    expect(isValidUnit('u'.repeat(33))).toBe(false);
  });
});
