import { describe, expect, it } from 'vitest';
import {
  deviceRecordIssues,
  decodeDeviceRecord,
  encodeDeviceRecord,
  generateSecret,
  hashSecret,
  isValidDeviceId,
  verifySecret,
} from './device-record.ts';
import type { DeviceRecord } from './device-record.ts';

// tiny cost so the suite stays fast; the default parameters get one test of their own
const fast = { N: 16, r: 1, p: 1 };
const validHash = `scrypt$16$1$1$${Buffer.alloc(16, 1).toString('base64')}$${Buffer.alloc(32, 2).toString('base64')}`;

function record(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    deviceId: 'd1',
    secretHash: validHash,
    enabled: true,
    createdAtMs: 1_700_000_000_000,
    updatedAtMs: 1_700_000_000_500,
    ...overrides,
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function reasonOf(result: { ok: true } | { ok: false; reason: string }): string {
  if (result.ok) throw new Error('expected a failed result');
  return result.reason;
}

describe('isValidDeviceId', () => {
  it.each(['d1', 'A', 'sensor-01.site_b', 'x'.repeat(64), '.', '-'])('accepts %j', (id) => {
    expect(isValidDeviceId(id)).toBe(true);
  });

  it.each(['', 'x'.repeat(65), 'a/b', 'a+b', 'a#b', '$SYS', '$d1', 'a b', 'dé', 'a\u0000'])('rejects %j', (id) => {
    expect(isValidDeviceId(id)).toBe(false);
  });

  it('rejects non-strings', () => {
    expect(isValidDeviceId(42)).toBe(false);
    expect(isValidDeviceId(null)).toBe(false);
  });
});

describe('encodeDeviceRecord / decodeDeviceRecord', () => {
  it('round-trips a full record', () => {
    const rec = record({
      site: 'plant-7',
      model: 'TH-200',
      units: { temperature: 'degF', humidity: '%' },
      calibration: { temperature: { scale: 1.02, offset: -0.5 } },
    });
    const decoded = decodeDeviceRecord('d1', encodeDeviceRecord(rec));
    expect(decoded).toEqual({ ok: true, value: rec });
  });

  it('round-trips a minimal record without inventing optional fields', () => {
    const decoded = decodeDeviceRecord('d1', encodeDeviceRecord(record()));
    expect(decoded.ok && decoded.value).toEqual(record());
    expect(decoded.ok && decoded.value !== null && 'site' in decoded.value).toBe(false);
  });

  it('encodes UTF-8 JSON with a stable field order', () => {
    const text = encodeDeviceRecord(record({ site: 'Zürich' })).toString('utf8');
    expect(text).toBe(
      `{"deviceId":"d1","secretHash":"${validHash}","enabled":true,` +
        `"createdAtMs":1700000000000,"updatedAtMs":1700000000500,"site":"Zürich"}`,
    );
  });

  it('refuses to encode an invalid record', () => {
    expect(() => encodeDeviceRecord(record({ deviceId: 'a/b' }))).toThrow(/deviceId/);
    expect(() => encodeDeviceRecord(record({ secretHash: 'plain' }))).toThrow(/secretHash/);
  });

  it('treats a null value as a deletion', () => {
    expect(decodeDeviceRecord('d1', null)).toEqual({ ok: true, value: null });
  });

  it('rejects an invalid key, even for a tombstone', () => {
    expect(reasonOf(decodeDeviceRecord('a/b', null))).toBe('key "a/b" is not a valid device id');
  });

  it('rejects a key that differs from deviceId', () => {
    expect(reasonOf(decodeDeviceRecord('d2', encodeDeviceRecord(record())))).toBe(
      'deviceId "d1" does not match the record key "d2"',
    );
  });

  it('rejects empty, non-UTF-8 and non-JSON values', () => {
    expect(reasonOf(decodeDeviceRecord('d1', Buffer.alloc(0)))).toMatch(/^value is empty/);
    expect(reasonOf(decodeDeviceRecord('d1', Buffer.from([0x7b, 0xff, 0x7d])))).toBe('value is not valid UTF-8');
    expect(reasonOf(decodeDeviceRecord('d1', Buffer.from('{"deviceId":')))).toMatch(/^value is not valid JSON: /);
  });

  it.each([
    ['an array', [], 'record must be a JSON object'],
    ['null', null, 'record must be a JSON object'],
    [
      'a missing deviceId',
      { ...record(), deviceId: undefined },
      'deviceId must be 1..64 characters of [A-Za-z0-9_.-], got nothing',
    ],
    [
      'a plain-text secret',
      { ...record(), secretHash: 'hunter2' },
      'secretHash must be a string of the form scrypt$N$r$p$<salt base64>$<hash base64>',
    ],
    ['a string enabled', { ...record(), enabled: 'true' }, 'enabled must be a boolean, got "true"'],
    ['an empty site', { ...record(), site: '' }, 'site must be a non-empty string of at most 256 characters'],
    ['a null model', { ...record(), model: null }, 'model must be a non-empty string of at most 256 characters'],
    ['units as an array', { ...record(), units: ['degF'] }, 'units must be an object of metric -> unit'],
    [
      'a numeric unit',
      { ...record(), units: { temperature: 5 } },
      'units.temperature must be a non-empty string of at most 32 characters',
    ],
    [
      'a unit longer than a payload may carry',
      { ...record(), units: { temperature: 'u'.repeat(33) } },
      'units.temperature must be a non-empty string of at most 32 characters',
    ],
    ['an empty metric name', { ...record(), units: { '': 'degF' } }, 'units has an invalid metric name ""'],
    [
      'a metric name no payload may carry',
      { ...record(), calibration: { 'air temp': { scale: 1, offset: 0 } } },
      'calibration has an invalid metric name "air temp"',
    ],
    [
      'a metric name longer than 64 characters',
      { ...record(), units: { ['m'.repeat(65)]: 'degC' } },
      `units has an invalid metric name "${'m'.repeat(65)}"`,
    ],
    ['calibration as a string', { ...record(), calibration: 'x2' }, 'calibration must be an object of metric -> { scale, offset }'],
    ['a calibration entry that is not an object', { ...record(), calibration: { t: 2 } }, 'calibration.t must be an object { scale, offset }'],
    [
      'a calibration without offset',
      { ...record(), calibration: { t: { scale: 1 } } },
      'calibration.t.offset must be a finite number, got nothing',
    ],
    [
      'a zero scale',
      { ...record(), calibration: { t: { scale: 0, offset: 1 } } },
      'calibration.t.scale must be a non-zero finite number, got 0',
    ],
    [
      'a string scale',
      { ...record(), calibration: { t: { scale: '2', offset: 1 } } },
      'calibration.t.scale must be a non-zero finite number, got "2"',
    ],
    [
      'an extra calibration field',
      { ...record(), calibration: { t: { scale: 1, offset: 0, unit: 'C' } } },
      'calibration.t has unknown field "unit"',
    ],
    [
      'a fractional createdAtMs',
      { ...record(), createdAtMs: 1.5 },
      'createdAtMs must be a non-negative integer (epoch ms), got 1.5',
    ],
    [
      'a negative updatedAtMs',
      { ...record(), createdAtMs: 0, updatedAtMs: -1 },
      'updatedAtMs must be a non-negative integer (epoch ms), got -1',
    ],
    [
      'updatedAtMs before createdAtMs',
      { ...record(), createdAtMs: 10, updatedAtMs: 9 },
      'updatedAtMs must not be earlier than createdAtMs',
    ],
  ])('rejects %s', (_label, value, reason) => {
    expect(reasonOf(decodeDeviceRecord('d1', json(value)))).toBe(reason);
  });

  it('lists every problem of a record, each with its field path', () => {
    const value = { ...record(), enabled: 1, calibration: { t: { scale: 0, offset: 'x' } } };
    expect(reasonOf(decodeDeviceRecord('d1', json(value)))).toBe(
      'enabled must be a boolean, got 1; calibration.t.scale must be a non-zero finite number, got 0; ' +
        'calibration.t.offset must be a finite number, got "x"',
    );
  });

  it('ignores unknown top-level fields written by newer versions', () => {
    const decoded = decodeDeviceRecord('d1', json({ ...record(), firmware: '2.1.0' }));
    expect(decoded).toEqual({ ok: true, value: record() });
  });

  it('keeps a "__proto__" metric as data, not as a prototype', () => {
    // JSON.parse makes "__proto__" an own property; an object literal here would set the prototype instead
    const text = JSON.stringify(record()).replace(/}$/, ',"units":{"__proto__":"degC"}}');
    const decoded = decodeDeviceRecord('d1', Buffer.from(text));
    expect(decoded.ok).toBe(true);
    const units = decoded.ok ? decoded.value?.units : undefined;
    expect(Object.getPrototypeOf(units)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(units, '__proto__')?.value).toBe('degC');
  });
});

describe('hashSecret / verifySecret', () => {
  it('produces a self-describing scrypt string with the default parameters', async () => {
    const stored = await hashSecret('s3cret');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await verifySecret('s3cret', stored)).toBe(true);
  });

  it('verifies the right secret and refuses a wrong one', async () => {
    const stored = await hashSecret('correct horse', fast);
    expect(stored.startsWith('scrypt$16$1$1$')).toBe(true);
    expect(await verifySecret('correct horse', stored)).toBe(true);
    expect(await verifySecret('correct hors', stored)).toBe(false);
    expect(await verifySecret(Buffer.from('correct horse'), stored)).toBe(true);
  });

  it('salts every hash differently', async () => {
    const a = await hashSecret('same', fast);
    const b = await hashSecret('same', fast);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
  });

  it('produces hashes that decodeDeviceRecord accepts', async () => {
    const secretHash = await hashSecret(generateSecret(), fast);
    expect(decodeDeviceRecord('d1', json(record({ secretHash }))).ok).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['another algorithm', 'bcrypt$16$1$1$AQEBAQEBAQEBAQEBAQEBAQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI='],
    ['too few parts', 'scrypt$16$1$1$AQEBAQEBAQEBAQEBAQEBAQ=='],
    ['N not a power of two', 'scrypt$15$1$1$AQEBAQEBAQEBAQEBAQEBAQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI='],
    ['N too large', 'scrypt$1073741824$8$1$AQEBAQEBAQEBAQEBAQEBAQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI='],
    ['a leading zero', 'scrypt$016$1$1$AQEBAQEBAQEBAQEBAQEBAQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI='],
    ['junk in the salt', 'scrypt$16$1$1$AQEB*AQEBAQEBAQEBAQEBAQ==$AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI='],
    ['a too-short hash', 'scrypt$16$1$1$AQEBAQEBAQEBAQEBAQEBAQ==$AgIC'],
  ])('resolves false, without throwing, for a stored hash with %s', async (_label, stored) => {
    await expect(verifySecret('anything', stored)).resolves.toBe(false);
  });

  it('rejects out-of-range parameters and empty secrets when hashing', async () => {
    await expect(hashSecret('x', { N: 1000 })).rejects.toThrow(/N must be a power of two/);
    await expect(hashSecret('x', { N: 2 ** 20, r: 8 })).rejects.toThrow(/128 \* N \* r/);
    await expect(hashSecret('x', { ...fast, saltBytes: 4 })).rejects.toThrow(/saltBytes/);
    await expect(hashSecret('', fast)).rejects.toThrow(/empty/);
  });
});

describe('generateSecret', () => {
  it('returns 32 random bytes as base64url', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });
});

describe('deviceRecordIssues', () => {
  it('lists every problem with its field path, a bad metric name on the map that holds it', async () => {
    const base = { deviceId: 'dev-1', secretHash: await hashSecret('dev-1-secret', { N: 2 }), enabled: true, createdAtMs: 1, updatedAtMs: 1 };
    expect(deviceRecordIssues(base)).toEqual([]);
    const issues = deviceRecordIssues({ ...base, site: '', units: { 'bad metric': 'degC' }, calibration: { temperature: { scale: 0, offset: 1 } } });
    expect(issues.map((issue) => issue.path)).toEqual([['site'], ['units'], ['calibration', 'temperature', 'scale']]);
    expect(issues[1]?.message).toContain('"bad metric"');
  });
});
