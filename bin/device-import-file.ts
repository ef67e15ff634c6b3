/**
 * `tributary devices import`'s pure half: parses a device file (CSV with a header row, or JSON lines), checks every
 * line against the device record schema, and plans what to write against the registry. No I/O: every problem of
 * the whole file is found before anything is hashed or written.
 */
import { isValidDeviceId, minSecretChars, validateDeviceRecord, type Calibration, type DeviceRecord } from '../core/device-record.ts';

/** One good line of the file: the device it describes. Absent `secret`/`enabled` keep the registry's on --update. */
export interface DeviceImportRow {
  line: number;
  deviceId: string;
  secret?: string;
  enabled?: boolean;
  site?: string;
  model?: string;
  units?: Record<string, string>;
  calibration?: Record<string, Calibration>;
}

/** A line that cannot be imported, and why. Line numbers count from 1, the CSV header included. */
export interface DeviceImportProblem {
  line: number;
  reason: string;
}

const columns = ['deviceId', 'secret', 'enabled', 'site', 'model', 'units', 'calibration'] as const;
type Column = (typeof columns)[number];

// Only the hash is checked by the schema; this well-formed placeholder lets a line be checked before it is hashed.
const placeholderHash = `scrypt$2$1$1$${Buffer.alloc(8).toString('base64')}$${Buffer.alloc(16).toString('base64')}`;

/**
 * Parses and checks a whole device file. The format is JSON lines when the first non-blank line starts with `{`,
 * else CSV whose header names some of `deviceId,secret,enabled,site,model,units,calibration` (deviceId required).
 * In CSV, `units` is `metric=unit;...` and `calibration` is `metric=scale:offset;...`; an empty cell is absent.
 * Blank lines are skipped; a device id listed twice is a problem on its later line.
 */
export function parseDeviceImportFile(text: string): { rows: DeviceImportRow[]; problems: DeviceImportProblem[] } {
  const lines = text.split(/\r?\n/);
  const first = lines.find((line) => line.trim() !== '');
  if (first === undefined) return { rows: [], problems: [{ line: 1, reason: 'the file has no devices' }] };
  const parsed = first.trimStart().startsWith('{') ? parseJsonLines(lines) : parseCsv(lines);
  const rows: DeviceImportRow[] = [];
  const problems = [...parsed.problems];
  const seen = new Map<string, number>();
  for (const row of parsed.rows) {
    const reason = rowProblem(row);
    const earlier = seen.get(row.deviceId);
    if (reason !== null) problems.push({ line: row.line, reason });
    else if (earlier !== undefined) problems.push({ line: row.line, reason: `device ${row.deviceId} is listed already on line ${earlier}` });
    else {
      seen.set(row.deviceId, row.line);
      rows.push(row);
    }
  }
  problems.sort((a, b) => a.line - b.line);
  return { rows, problems };
}

function rowProblem(row: DeviceImportRow): string | null {
  if (!isValidDeviceId(row.deviceId)) return `deviceId must be 1..64 characters of [A-Za-z0-9_.-], got ${JSON.stringify(row.deviceId)}`;
  if (row.secret !== undefined && row.secret.length < minSecretChars) return `secret must have at least ${minSecretChars} characters`;
  const { line: _line, secret: _secret, ...fields } = row;
  const checked = validateDeviceRecord({ ...fields, enabled: row.enabled ?? true, secretHash: placeholderHash, createdAtMs: 0, updatedAtMs: 0 });
  return checked.ok ? null : checked.reason;
}

function parseJsonLines(lines: readonly string[]): { rows: DeviceImportRow[]; problems: DeviceImportProblem[] } {
  const rows: DeviceImportRow[] = [];
  const problems: DeviceImportProblem[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      problems.push({ line, reason: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ line, reason: 'must be a JSON object' });
      return;
    }
    const object = value as Record<string, unknown>;
    const unknown = Object.keys(object).filter((key) => !(columns as readonly string[]).includes(key));
    if (unknown.length > 0) {
      problems.push({ line, reason: `unknown field(s) ${unknown.join(', ')} (known: ${columns.join(', ')})` });
      return;
    }
    const { deviceId, secret, enabled } = object;
    if (typeof deviceId !== 'string') return void problems.push({ line, reason: 'deviceId must be a string' });
    if (secret !== undefined && typeof secret !== 'string') return void problems.push({ line, reason: 'secret must be a string' });
    if (enabled !== undefined && typeof enabled !== 'boolean') return void problems.push({ line, reason: 'enabled must be true or false' });
    // the other fields are checked by the record schema, with its own messages
    rows.push({ ...(object as Omit<DeviceImportRow, 'line'>), line });
  });
  return { rows, problems };
}

function parseCsv(lines: readonly string[]): { rows: DeviceImportRow[]; problems: DeviceImportProblem[] } {
  const headerIndex = lines.findIndex((line) => line.trim() !== '');
  const header = splitCsvLine(lines[headerIndex] ?? '');
  const headerLine = headerIndex + 1;
  if (!header.ok) return { rows: [], problems: [{ line: headerLine, reason: `header: ${header.reason}` }] };
  const names = header.value.map((name) => name.trim());
  const unknown = names.filter((name) => !(columns as readonly string[]).includes(name));
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (unknown.length > 0 || repeated.length > 0 || !names.includes('deviceId')) {
    const reasons = [
      ...(unknown.length > 0 ? [`unknown column(s) ${unknown.map((name) => JSON.stringify(name)).join(', ')}`] : []),
      ...(repeated.length > 0 ? [`repeated column(s) ${repeated.join(', ')}`] : []),
      ...(!names.includes('deviceId') ? ['no deviceId column'] : []),
    ];
    return { rows: [], problems: [{ line: headerLine, reason: `header: ${reasons.join('; ')} (columns: ${columns.join(',')})` }] };
  }
  const rows: DeviceImportRow[] = [];
  const problems: DeviceImportProblem[] = [];
  for (let index = headerIndex + 1; index < lines.length; index += 1) {
    const text = lines[index] ?? '';
    const line = index + 1;
    if (text.trim() === '') continue;
    const cells = splitCsvLine(text);
    if (!cells.ok) {
      problems.push({ line, reason: cells.reason });
      continue;
    }
    if (cells.value.length !== names.length) {
      problems.push({ line, reason: `has ${cells.value.length} cells, the header has ${names.length}` });
      continue;
    }
    const cell = new Map<Column, string>();
    names.forEach((name, column) => {
      const value = cells.value[column] ?? '';
      if (value !== '') cell.set(name as Column, value);
    });
    const row = csvRow(line, cell);
    if (typeof row === 'string') problems.push({ line, reason: row });
    else rows.push(row);
  }
  return { rows, problems };
}

function csvRow(line: number, cell: ReadonlyMap<Column, string>): DeviceImportRow | string {
  const enabledText = cell.get('enabled');
  if (enabledText !== undefined && enabledText !== 'true' && enabledText !== 'false') return `enabled must be true or false, got ${JSON.stringify(enabledText)}`;
  const units = pairs(cell.get('units'), 'units', 'metric=unit');
  if (typeof units === 'string') return units;
  const calibration = pairs(cell.get('calibration'), 'calibration', 'metric=scale:offset');
  if (typeof calibration === 'string') return calibration;
  const secret = cell.get('secret');
  const site = cell.get('site');
  const model = cell.get('model');
  return {
    line,
    deviceId: cell.get('deviceId') ?? '',
    ...(secret !== undefined && { secret }),
    ...(enabledText !== undefined && { enabled: enabledText === 'true' }),
    ...(site !== undefined && { site }),
    ...(model !== undefined && { model }),
    ...(units !== undefined && { units: Object.fromEntries(units) }),
    ...(calibration !== undefined && {
      calibration: Object.fromEntries(
        calibration.map(([metric, spec]) => {
          const [scale = '', offset = '0'] = spec.split(':');
          // not-a-number scales reach the schema as NaN and are refused there with its message
          return [metric, { scale: scale === '' ? Number.NaN : Number(scale), offset: Number(offset) }];
        }),
      ),
    }),
  };
}

function pairs(text: string | undefined, column: string, form: string): Array<[string, string]> | string | undefined {
  if (text === undefined) return undefined;
  const result: Array<[string, string]> = [];
  for (const item of text.split(';')) {
    const index = item.indexOf('=');
    if (index <= 0 || index === item.length - 1) return `${column} must be ${form} pairs separated by ";", got ${JSON.stringify(item)}`;
    result.push([item.slice(0, index), item.slice(index + 1)]);
  }
  return result;
}

/** RFC 4180 cells of one line: quoted cells may hold commas and doubled quotes, but not line breaks. */
function splitCsvLine(text: string): { ok: true; value: string[] } | { ok: false; reason: string } {
  const cells: string[] = [];
  let index = 0;
  for (;;) {
    if (text[index] === '"') {
      let value = '';
      index += 1;
      for (;;) {
        const quote = text.indexOf('"', index);
        if (quote < 0) return { ok: false, reason: 'a quoted cell is not closed (cells cannot span lines)' };
        value += text.slice(index, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          index = quote + 2;
        } else {
          index = quote + 1;
          break;
        }
      }
      if (index < text.length && text[index] !== ',') return { ok: false, reason: `unexpected ${JSON.stringify(text[index])} after a quoted cell` };
      cells.push(value);
    } else {
      const comma = text.indexOf(',', index);
      const end = comma < 0 ? text.length : comma;
      cells.push(text.slice(index, end));
      index = end;
    }
    if (index >= text.length) return { ok: true, value: cells };
    index += 1;
  }
}

/** What to do with one row: its secret is given, generated now, or (an --update without one) the registry's kept. */
export interface PlannedDevice {
  row: DeviceImportRow;
  existing: DeviceRecord | undefined;
  secret: { kind: 'given'; value: string } | { kind: 'generate' } | { kind: 'keep' };
}

/**
 * Decides every row against the registry: an existing id is a problem unless `update`; a row without a secret
 * needs `generateSecrets`, unless it updates a device whose secret is then kept.
 */
export function planDeviceImport(
  rows: readonly DeviceImportRow[],
  lookup: (deviceId: string) => DeviceRecord | undefined,
  options: { update: boolean; generateSecrets: boolean },
): { planned: PlannedDevice[]; problems: DeviceImportProblem[] } {
  const planned: PlannedDevice[] = [];
  const problems: DeviceImportProblem[] = [];
  for (const row of rows) {
    const existing = lookup(row.deviceId);
    if (existing && !options.update) {
      problems.push({ line: row.line, reason: `device ${row.deviceId} exists already (--update replaces it)` });
    } else if (row.secret !== undefined) {
      planned.push({ row, existing, secret: { kind: 'given', value: row.secret } });
    } else if (existing) {
      planned.push({ row, existing, secret: { kind: 'keep' } });
    } else if (options.generateSecrets) {
      planned.push({ row, existing, secret: { kind: 'generate' } });
    } else {
      problems.push({ line: row.line, reason: `device ${row.deviceId} has no secret (give a secret column, or --credentials FILE to generate them)` });
    }
  }
  return { planned, problems };
}

/** The record a planned row writes, given its secret hash; an update keeps `createdAtMs` (and unset `enabled`). */
export function importedRecord(plan: PlannedDevice, secretHash: string, nowMs: number): DeviceRecord {
  const { row, existing } = plan;
  return {
    deviceId: row.deviceId,
    secretHash,
    enabled: row.enabled ?? existing?.enabled ?? true,
    ...(row.site !== undefined && { site: row.site }),
    ...(row.model !== undefined && { model: row.model }),
    ...(row.units !== undefined && { units: row.units }),
    ...(row.calibration !== undefined && { calibration: row.calibration }),
    createdAtMs: existing?.createdAtMs ?? nowMs,
    updatedAtMs: nowMs,
  };
}
