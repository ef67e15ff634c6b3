/** Small helpers shared by the subcommands: parsing flags with help, and usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args`; returns null (after printing `help`) when --help/-h was given. */
export function parseCommandArgs<T extends Options>(args: readonly string[], options: T, help: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${help}`);
  }
  if ((parsed.values as Record<string, unknown>).help === true) {
    process.stdout.write(help.trimEnd() + '\n');
    return null;
  }
  return parsed;
}

export function intFlag(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw new UsageError(`--${name} expects a whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** A whole-number flag within [min, max] (`fallback` when absent). */
export function rangedIntFlag(value: unknown, name: string, fallback: number, min: number, max: number): number {
  const number = intFlag(value, name, fallback);
  if (number < min || number > max) throw new UsageError(`--${name} must be in ${min}..${max}, got ${number}`);
  return number;
}
