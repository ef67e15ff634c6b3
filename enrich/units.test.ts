import { describe, expect, it } from 'vitest';
import { normaliseUnit, resolveUnit, supportedUnits, unitRejections } from './units.ts';

function converted(value: number, unit: string | null): { value: number; unit: string | null } {
  const result = normaliseUnit(value, unit);
  if (!result.ok) throw new Error(`expected ${String(unit)} to convert, got ${result.reason}`);
  return result.value;
}

describe('normaliseUnit', () => {
  it('converts temperatures to degC, offsets before scaling', () => {
    expect(converted(212, 'degF')).toEqual({ value: 100, unit: 'degC' });
    expect(converted(32, '°F')).toEqual({ value: 0, unit: 'degC' });
    expect(converted(-40, 'fahrenheit')).toEqual({ value: -40, unit: 'degC' });
    expect(converted(273.15, 'K')).toEqual({ value: 0, unit: 'degC' });
    expect(converted(300, 'Kelvin').value).toBeCloseTo(26.85, 10);
    expect(converted(21.5, 'C')).toEqual({ value: 21.5, unit: 'degC' });
    expect(converted(21.5, '°C')).toEqual({ value: 21.5, unit: 'degC' });
    expect(converted(21.5, 'CELSIUS')).toEqual({ value: 21.5, unit: 'degC' });
  });

  it('converts pressure to Pa', () => {
    expect(converted(1013.25, 'hPa')).toEqual({ value: 101325, unit: 'Pa' });
    expect(converted(101.325, 'kPa').value).toBeCloseTo(101325, 6);
    expect(converted(1.5, 'bar')).toEqual({ value: 150000, unit: 'Pa' });
    expect(converted(1, 'psi').value).toBeCloseTo(6894.757, 3);
    expect(converted(5, 'Pa')).toEqual({ value: 5, unit: 'Pa' });
  });

  it('converts electrical, energy, speed and length units exactly where the factor is an integer', () => {
    expect(converted(1500, 'mV')).toEqual({ value: 1.5, unit: 'V' });
    expect(converted(250, 'mA')).toEqual({ value: 0.25, unit: 'A' });
    expect(converted(2.5, 'kWh')).toEqual({ value: 2500, unit: 'Wh' });
    expect(converted(36, 'km/h')).toEqual({ value: 10, unit: 'm/s' });
    expect(converted(1234, 'mm')).toEqual({ value: 1.234, unit: 'm' });
    expect(converted(150, 'cm')).toEqual({ value: 1.5, unit: 'm' });
    expect(converted(3, 'km')).toEqual({ value: 3000, unit: 'm' });
    expect(converted(55, '%')).toEqual({ value: 55, unit: '%' });
  });

  it('passes a null unit through unchanged', () => {
    expect(converted(7, null)).toEqual({ value: 7, unit: null });
  });

  it('refuses unknown units, and symbols in the wrong case', () => {
    for (const unit of ['degR', 'MV', 'PA', 'kmh', 'lux', '', ' degC']) {
      expect(normaliseUnit(1, unit), unit).toEqual({ ok: false, reason: unitRejections.unsupportedUnit, detail: unit });
    }
  });

  it('refuses a conversion that overflows', () => {
    expect(normaliseUnit(Number.MAX_VALUE, 'bar')).toMatchObject({ ok: false, reason: unitRejections.valueOutOfRange });
  });
});

describe('supportedUnits', () => {
  it('lists every quantity with its canonical unit first, and each listed spelling resolves to it', () => {
    const quantities = supportedUnits.map((q) => q.quantity);
    expect(quantities).toEqual(['temperature', 'pressure', 'humidity', 'voltage', 'current', 'energy', 'speed', 'length']);
    for (const q of supportedUnits) {
      expect(q.accepts[0]?.unit).toBe(q.canonical);
      for (const accepted of q.accepts) {
        for (const name of [accepted.unit, ...accepted.aliases, ...(accepted.words ?? [])]) {
          expect(resolveUnit(name)?.canonical, name).toBe(q.canonical);
        }
      }
    }
  });

  it('resolves canonical units to the identity conversion', () => {
    for (const q of supportedUnits) {
      expect(resolveUnit(q.canonical), q.canonical).toMatchObject({ add: 0, mul: 1, div: 1 });
    }
  });
});
