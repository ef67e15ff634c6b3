/**
 * Typed configuration from environment variables, validated at startup.
 *
 * Usage: `const env = createEnvReader(process.env)`, read every setting with a typed getter, then
 * `env.finish()`. Getters never throw: they record problems and return the default, so `finish()`
 * can throw one ConfigError listing every bad variable at once.
 */
import { ConfigError } from './errors.ts';

export interface EnvReader {
  string(name: string, fallback: string): string;
  optionalString(name: string): string | undefined;
  int(name: string, fallback: number, range?: { min?: number; max?: number }): number;
  bool(name: string, fallback: boolean): boolean;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  /** host:port, e.g. `127.0.0.1:9092`. */
  hostPort(name: string, fallback: string): string;
  /** Comma-separated list, items trimmed, empty items dropped. */
  list(name: string, fallback: readonly string[]): string[];
  /** Records a problem found by the caller's own cross-field checks. */
  problem(message: string): void;
  /** Throws ConfigError if any problem was recorded. */
  finish(): void;
}

export function createEnvReader(env: Readonly<Record<string, string | undefined>>): EnvReader {
  const problems: string[] = [];
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
        problems.push(`${name}=${JSON.stringify(value)}: expected an integer in [${min}, ${max}]`);
        return fallback;
      }
      return parsed;
    },
    bool(name, fallback) {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return fallback;
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      problems.push(`${name}=${JSON.stringify(value)}: expected true or false`);
      return fallback;
    },
    oneOf(name, allowed, fallback) {
      const value = raw(name);
      if (value === undefined) return fallback;
      const match = allowed.find((candidate) => candidate === value);
      if (match === undefined) {
        problems.push(`${name}=${JSON.stringify(value)}: expected one of ${allowed.join(', ')}`);
        return fallback;
      }
      return match;
    },
    hostPort(name, fallback) {
      const value = raw(name);
      if (value === undefined) return fallback;
      const match = /^(.+):(\d{1,5})$/.exec(value);
      const port = match ? Number(match[2]) : Number.NaN;
      if (!match || port < 1 || port > 65535) {
        problems.push(`${name}=${JSON.stringify(value)}: expected host:port`);
        return fallback;
      }
      return value;
    },
    list(name, fallback) {
      const value = raw(name);
      if (value === undefined) return [...fallback];
      return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
    },
    problem(message) {
      problems.push(message);
    },
    finish() {
      if (problems.length > 0) throw new ConfigError(problems);
    },
  };
}
