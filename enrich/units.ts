/**
 * Unit normalisation: every supported quantity is stored in one canonical unit, so a dashboard never
 * averages °F with °C. The supported set is data (`supportedUnits`); README.md lists it from here.
 *
 * A conversion is `(value + add) * mul / div`: offsets apply before scaling (°F, K), and exact
 * integer factors avoid binary-fraction noise (1500 mV → 1.5 V exactly, not 1.5000000000000002).
 */
import type { Result } from '../core/result.ts';

/** How one accepted unit maps onto its quantity's canonical unit. */
export interface UnitConversion {
  readonly quantity: string;
  /** The canonical unit the value is converted to. */
  readonly canonical: string;
  readonly add: number;
  readonly mul: number;
  readonly div: number;
}

/** One unit accepted for a quantity, with its spellings and conversion (defaults: add 0, mul 1, div 1). */
export interface AcceptedUnit {
  readonly unit: string;
  /** Other symbols for the same unit, matched exactly (unit symbols are case-sensitive: mV is not MV). */
  readonly aliases: readonly string[];
  /** Spelled-out names, matched case-insensitively. */
  readonly words?: readonly string[];
  readonly add?: number;
  readonly mul?: number;
  readonly div?: number;
}

/** A measured quantity and the units accepted for it. */
export interface UnitQuantity {
  readonly quantity: string;
  readonly canonical: string;
  /** The canonical unit is listed first, with the identity conversion. */
  readonly accepts: readonly AcceptedUnit[];
}

// psi → Pa: 1 lbf / 1 in² = 4.4482216152605 N / 0.00064516 m².
const pascalsPerPsi = 6894.757293168361;

/** Every quantity, its canonical unit and the units converted to it. */
export const supportedUnits: readonly UnitQuantity[] = [
  {
    quantity: 'temperature',
    canonical: 'degC',
    accepts: [
      { unit: 'degC', aliases: ['°C', '℃', 'C'], words: ['celsius'] },
      { unit: 'degF', aliases: ['°F', '℉', 'F'], words: ['fahrenheit'], add: -32, mul: 5, div: 9 },
      { unit: 'K', aliases: [], words: ['kelvin'], add: -273.15 },
    ],
  },
  {
    quantity: 'pressure',
    canonical: 'Pa',
    accepts: [
      { unit: 'Pa', aliases: [] },
      { unit: 'hPa', aliases: [], mul: 100 },
      { unit: 'kPa', aliases: [], mul: 1000 },
      { unit: 'bar', aliases: [], mul: 100_000 },
      { unit: 'psi', aliases: [], mul: pascalsPerPsi },
    ],
  },
  { quantity: 'humidity', canonical: '%', accepts: [{ unit: '%', aliases: [] }] },
  {
    quantity: 'voltage',
    canonical: 'V',
    accepts: [
      { unit: 'V', aliases: [] },
      { unit: 'mV', aliases: [], div: 1000 },
    ],
  },
  {
    quantity: 'current',
    canonical: 'A',
    accepts: [
      { unit: 'A', aliases: [] },
      { unit: 'mA', aliases: [], div: 1000 },
    ],
  },
  {
    quantity: 'energy',
    canonical: 'Wh',
    accepts: [
      { unit: 'Wh', aliases: [] },
      { unit: 'kWh', aliases: [], mul: 1000 },
    ],
  },
  {
    quantity: 'speed',
    canonical: 'm/s',
    accepts: [
      { unit: 'm/s', aliases: [] },
      { unit: 'km/h', aliases: [], mul: 1000, div: 3600 },
    ],
  },
  {
    quantity: 'length',
    canonical: 'm',
    accepts: [
      { unit: 'm', aliases: [] },
      { unit: 'mm', aliases: [], div: 1000 },
      { unit: 'cm', aliases: [], div: 100 },
      { unit: 'km', aliases: [], mul: 1000 },
    ],
  },
];

/** Reason codes from `normaliseUnit`. */
export const unitRejections = {
  unsupportedUnit: 'unsupported_unit',
  valueOutOfRange: 'value_out_of_range',
} as const;

const exact = new Map<string, UnitConversion>();
const words = new Map<string, UnitConversion>();
for (const q of supportedUnits) {
  for (const accepted of q.accepts) {
    const conversion: UnitConversion = Object.freeze({
      quantity: q.quantity,
      canonical: q.canonical,
      add: accepted.add ?? 0,
      mul: accepted.mul ?? 1,
      div: accepted.div ?? 1,
    });
    for (const name of [accepted.unit, ...accepted.aliases, ...(accepted.words ?? [])]) {
      if (exact.has(name)) throw new Error(`units table: "${name}" is listed twice`);
      exact.set(name, conversion);
    }
    for (const word of accepted.words ?? []) words.set(word.toLowerCase(), conversion);
  }
}

/** The conversion for a unit string, or null when it is not supported. Allocates nothing on a hit. */
export function resolveUnit(unit: string): UnitConversion | null {
  return exact.get(unit) ?? words.get(unit.toLowerCase()) ?? null;
}

/** Apply a conversion to a value in the conversion's source unit. */
function applyConversion(conversion: UnitConversion, value: number): number {
  return ((value + conversion.add) * conversion.mul) / conversion.div;
}

/**
 * Convert a value to its quantity's canonical unit. A null unit passes through unchanged (a unitless
 * count or ratio). An unknown unit is refused rather than stored under a name no dashboard expects.
 */
export function normaliseUnit(value: number, unit: string | null): Result<{ value: number; unit: string | null }> {
  if (unit === null) return { ok: true, value: { value, unit } };
  const conversion = resolveUnit(unit);
  if (conversion === null) return { ok: false, reason: unitRejections.unsupportedUnit, detail: unit };
  const converted = applyConversion(conversion, value);
  if (!Number.isFinite(converted)) return { ok: false, reason: unitRejections.valueOutOfRange, detail: unit };
  return { ok: true, value: { value: converted, unit: conversion.canonical } };
}
