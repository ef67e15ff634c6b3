/**
 * Declarative settings. Each setting is one environment variable with a type, a default, the values
 * it allows and one line of help; a process lists the settings it reads in a table (a record of
 * settings). The same table parses the environment (`readSettings`), prints the `--help`
 * environment section (`settingsHelp`) and renders the README's tables (`settingsMarkdown`), so the
 * three cannot drift apart. Parsing goes through an EnvReader: problems are collected and reported
 * together by `env.finish()`.
 */
import type { EnvReader } from './config.ts';

export interface Setting<T> {
  /** The environment variable. */
  readonly name: string;
  /** What kind of value: `integer`, `boolean`, `string`, `host:port list`, `one of`, `list`. */
  readonly type: string;
  /** The default as a person writes it; a derived default in words, e.g. `<hostname>-<pid>`. */
  readonly defaultText: string;
  /** The values allowed, e.g. `1–65535` or `off, optional, required`; '' when the type says it all. */
  readonly allowed: string;
  /** One line: what the setting does. */
  readonly help: string;
  /** Reads and validates the variable; a bad value is recorded on `env` and the default returned. */
  read(env: EnvReader): T;
}

/** The settings one process or component reads, keyed by the name its code uses. */
export type SettingsTable = Readonly<Record<string, Setting<unknown>>>;

/** The typed values of a table's settings. */
export type SettingValues<T extends SettingsTable> = { -readonly [K in keyof T]: T[K] extends Setting<infer V> ? V : never };

interface Described {
  name: string;
  help: string;
}

/** A string; `default` is used when the variable is unset or blank (`defaultText` when it is machine-specific). */
export function stringSetting(spec: Described & { default: string; defaultText?: string; allowed?: string }): Setting<string> {
  const defaultText = spec.defaultText ?? (spec.default === '' ? "''" : spec.default);
  return { name: spec.name, help: spec.help, type: 'string', defaultText, allowed: spec.allowed ?? '', read: (env) => env.string(spec.name, spec.default) };
}

/** A string with no fixed default: undefined when unset; `defaultText` says what happens then. */
export function optionalStringSetting(spec: Described & { defaultText?: string; allowed?: string }): Setting<string | undefined> {
  return { name: spec.name, help: spec.help, type: 'string', defaultText: spec.defaultText ?? '–', allowed: spec.allowed ?? '', read: (env) => env.optionalString(spec.name) };
}

/** A whole number within [min, max] (both inclusive). */
export function intSetting(spec: Described & { default: number; min?: number; max?: number }): Setting<number> {
  const { min, max } = spec;
  const allowed = min !== undefined && max !== undefined ? `${min}–${max}` : min !== undefined ? `≥ ${min}` : max !== undefined ? `≤ ${max}` : '';
  return { name: spec.name, help: spec.help, type: 'integer', defaultText: String(spec.default), allowed, read: (env) => env.int(spec.name, spec.default, { min, max }) };
}

/** true/false (also 1/0, yes/no, on/off). */
export function boolSetting(spec: Described & { default: boolean }): Setting<boolean> {
  return { name: spec.name, help: spec.help, type: 'boolean', defaultText: String(spec.default), allowed: '', read: (env) => env.bool(spec.name, spec.default) };
}

/** One of a closed set of words. */
export function oneOfSetting<T extends string>(spec: Described & { values: readonly T[]; default: NoInfer<T> }): Setting<T> {
  return { name: spec.name, help: spec.help, type: 'one of', defaultText: spec.default, allowed: spec.values.join(', '), read: (env) => env.oneOf(spec.name, spec.values, spec.default) };
}

/** Comma-separated host:port items, at least one. */
export function hostPortListSetting(spec: Described & { default: readonly string[] }): Setting<string[]> {
  return { name: spec.name, help: spec.help, type: 'host:port list', defaultText: spec.default.join(','), allowed: '', read: (env) => env.hostPortList(spec.name, spec.default) };
}

/** Reads every setting of a table; problems go to `env` (see EnvReader.finish). */
export function readSettings<T extends SettingsTable>(env: EnvReader, table: T): SettingValues<T> {
  return Object.fromEntries(Object.entries(table).map(([key, setting]) => [key, setting.read(env)])) as SettingValues<T>;
}

/** Each distinct variable of the tables once, in order of first appearance. */
export function settingsOf(...tables: readonly SettingsTable[]): Array<Setting<unknown>> {
  const byName = new Map<string, Setting<unknown>>();
  for (const setting of tables.flatMap((table) => Object.values(table))) {
    if (!byName.has(setting.name)) byName.set(setting.name, setting);
  }
  return [...byName.values()];
}

/** The `--help` environment section: one line per variable, `NAME  help (allowed) [default]`. */
export function settingsHelp(...tables: readonly SettingsTable[]): string {
  const settings = settingsOf(...tables);
  const width = Math.max(...settings.map((setting) => setting.name.length)) + 2;
  const lines = settings.map((setting) => {
    const allowed = setting.allowed === '' ? '' : ` (${setting.allowed})`;
    return `  ${setting.name.padEnd(width)}${setting.help}${allowed} [${setting.defaultText}]`;
  });
  return `Environment (defaults in brackets):\n${lines.join('\n')}\n`;
}

/** A Markdown table of the variables: name, type, default, allowed values, meaning. */
export function settingsMarkdown(...tables: readonly SettingsTable[]): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|');
  const code = (text: string): string => (text === '' || text === '–' ? text : `\`${cell(text)}\``);
  const rows = settingsOf(...tables).map(
    (setting) => `| ${code(setting.name)} | ${setting.type} | ${code(setting.defaultText)} | ${cell(setting.allowed)} | ${cell(setting.help)} |`,
  );
  return ['| variable | type | default | allowed | meaning |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
}

/**
 * One problem for every variable in `env` that starts with `prefix` and is not in `known`, naming the
 * nearest known name: a misspelt setting must not be silently ignored.
 */
export function unknownSettingProblems(env: Readonly<Record<string, string | undefined>>, known: ReadonlySet<string>, prefix = 'TRIBUTARY_'): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith(prefix) && !known.has(name))
    .sort()
    .map((name) => {
      const nearest = nearestName(name, known);
      return `${name} is not a Tributary setting${nearest === null ? '' : ` (did you mean ${nearest}?)`}`;
    });
}

function nearestName(name: string, candidates: ReadonlySet<string>): string | null {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
