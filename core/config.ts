/**
 * Typed configuration from environment variables, validated at startup.
 *
 * Usage: `const env = createEnvReader(process.env)`, read the settings (normally through a settings
 * table, core/settings.ts, whose entries call these typed getters), then `env.finish()`. Getters never throw: they record problems and return the default, so `finish()`
 * can throw one ConfigError listing every bad variable at once.
 */
import { ConfigError } from './errors.ts';

export interface EnvReader {
  string(name: string, fallback: string): string;
  optionalString(name: string): string | undefined;
  int(name: string, fallback: number, range?: { min?: number; max?: number }): number;
  bool(name: string, fallback: boolean): boolean;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  /** Comma-separated host:port items, e.g. `kafka-0:9092,kafka-1:9092`; at least one. */
  hostPortList(name: string, fallback: readonly string[]): string[];
  /** Whether the variable is set to something other than blanks. */
  isSet(name: string): boolean;
  /** Records a problem found by the caller's own cross-field checks (a repeated one is kept once). */
  problem(message: string): void;
  /** Throws ConfigError if any problem was recorded. */
  finish(): void;
}

export function createEnvReader(env: Readonly<Record<string, string | undefined>>): EnvReader {
  // A set: a shared setting read by two components of one process reports its problem once.
  const problems = new Set<string>();
  const report = (problem: string): void => void problems.add(problem);
  const raw = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  return {
    string: (name, fallback) => raw(name) ?? fallback,
    optionalString: (name) => raw(name),
    int(name, fallback, range = {}) {
      const value = raw(name);
      if (value === undefined) return fallback;
      const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
      const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
      if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
        report(`${name}=${JSON.stringify(value)}: expected an integer in [${min}, ${max}]`);
        return fallback;
      }
      return parsed;
    },
    bool(name, fallback) {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return fallback;
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      report(`${name}=${JSON.stringify(value)}: expected true or false`);
      return fallback;
    },
    oneOf(name, allowed, fallback) {
      const value = raw(name);
      if (value === undefined) return fallback;
      const match = allowed.find((candidate) => candidate === value);
      if (match === undefined) {
        report(`${name}=${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
        return fallback;
      }
      return match;
    },
    hostPortList(name, fallback) {
      const value = raw(name);
      if (value === undefined) return [...fallback];
      // Items trimmed, empty items dropped.
      const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
      const bad = items.filter((item) => !isHostPort(item));
      if (items.length === 0 || bad.length > 0) {
        report(`${name}=${JSON.stringify(value)}: expected a comma-separated list of host:port${bad.length > 0 ? ` (not host:port: ${bad.join(', ')})` : ''}`);
        return [...fallback];
      }
      return items;
    },
    isSet: (name) => raw(name) !== undefined,
    problem: report,
    finish() {
      if (problems.size > 0) throw new ConfigError([...problems]);
    },
  };
}

function isHostPort(item: string): boolean {
  const match = /^([^\s:/,]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(item);
  const port = match ? Number(match[2]) : Number.NaN;
  return port >= 1 && port <= 65535;
}
