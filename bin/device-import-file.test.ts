import { describe, expect, it } from 'vitest';
import type { DeviceRecord } from '../core/device-record.ts';
import { importedRecord, parseDeviceImportFile, planDeviceImport } from './device-import-file.ts';

const existing: DeviceRecord = { deviceId: 'old-1', secretHash: 'scrypt$stored', enabled: false, site: 'x', createdAtMs: 5, updatedAtMs: 6 };

describe('parseDeviceImportFile', () => {
  it('reads a CSV file with a header row, quoted cells, units and calibrations', () => {
    const text = [
      'deviceId,secret,site,model,units,calibration,enabled',
      'dev-1,secret-one,lab,th-100,temperature=degF;humidity=%,temperature=1.5:-2,',
      '',
      'dev-2,,"Hall, east","say ""hi""",,,false',
    ].join('\r\n');
    expect(parseDeviceImportFile(text)).toEqual({
      rows: [
        { line: 2, deviceId: 'dev-1', secret: 'secret-one', site: 'lab', model: 'th-100', units: { temperature: 'degF', humidity: '%' }, calibration: { temperature: { scale: 1.5, offset: -2 } } },
        { line: 4, deviceId: 'dev-2', enabled: false, site: 'Hall, east', model: 'say "hi"' },
      ],
      problems: [],
    });
  });

  it('reads JSON lines with the same field names', () => {
    const text = '{"deviceId":"dev-1","secret":"secret-one","units":{"temperature":"degC"}}\n\n{"deviceId":"dev-2","enabled":false,"calibration":{"t":{"scale":2,"offset":0}}}\n';
    expect(parseDeviceImportFile(text)).toEqual({
      rows: [
        { line: 1, deviceId: 'dev-1', secret: 'secret-one', units: { temperature: 'degC' } },
        { line: 3, deviceId: 'dev-2', enabled: false, calibration: { t: { scale: 2, offset: 0 } } },
      ],
      problems: [],
    });
  });

  it('reports every bad CSV line with its number and reason, and keeps the good ones', () => {
    const text = [
      'deviceId,secret,site,units,calibration',
      'ok-1,secret-one,lab,,',
      'bad/id,secret-two,lab,,',
      'short,abc,lab,,',
      'units-1,secret-one,lab,temperature,',
      'cal-1,secret-one,lab,,temperature=0:1',
      'site-1,secret-one,' + 'x'.repeat(300) + ',,',
      'ok-1,secret-one,lab,,',
      'cells,secret-one',
      'quote,"open,lab,,',
      'ok-2,secret-two,lab,,',
    ].join('\n');
    const { rows, problems } = parseDeviceImportFile(text);
    expect(rows.map((row) => row.deviceId)).toEqual(['ok-1', 'ok-2']);
    expect(problems.map((problem) => problem.line)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(problems[0]?.reason).toMatch(/deviceId must be 1\.\.64 characters/);
    expect(problems[1]?.reason).toMatch(/secret must have at least 8 characters/);
    expect(problems[2]?.reason).toMatch(/units must be metric=unit pairs/);
    expect(problems[3]?.reason).toMatch(/calibration\.temperature\.scale must be a non-zero finite number/);
    expect(problems[4]?.reason).toMatch(/^site must be a non-empty string of at most 256 characters/);
    expect(problems[5]?.reason).toBe('device ok-1 is listed already on line 2');
    expect(problems[6]?.reason).toBe('has 2 cells, the header has 5');
    expect(problems[7]?.reason).toMatch(/quoted cell is not closed/);
  });

  it('reports every bad JSON line', () => {
    const text = ['{"deviceId":"ok-1","secret":"secret-one"}', '{"deviceId":"x",', '[1]', '{"deviceId":"y","colour":"red"}', '{"deviceId":"z","units":{"bad metric":"degC"}}', '{"deviceId":7}'].join('\n');
    const { rows, problems } = parseDeviceImportFile(text);
    expect(rows.map((row) => row.deviceId)).toEqual(['ok-1']);
    expect(problems.map((problem) => problem.line)).toEqual([2, 3, 4, 5, 6]);
    expect(problems[0]?.reason).toMatch(/^not valid JSON/);
    expect(problems[1]?.reason).toBe('must be a JSON object');
    expect(problems[2]?.reason).toMatch(/unknown field\(s\) colour/);
    expect(problems[3]?.reason).toMatch(/^units has an invalid metric name "bad metric"/);
    expect(problems[4]?.reason).toBe('deviceId must be a string');
  });

  it('refuses a CSV header it does not understand, and an empty file', () => {
    expect(parseDeviceImportFile('\nid,secret\nd1,secret-one\n')).toEqual({
      rows: [],
      problems: [{ line: 2, reason: expect.stringMatching(/^header: unknown column\(s\) "id"; no deviceId column/) as unknown }],
    });
    expect(parseDeviceImportFile(' \n').problems).toEqual([{ line: 1, reason: 'the file has no devices' }]);
  });
});

describe('planDeviceImport', () => {
  const rows = parseDeviceImportFile('deviceId,secret,site\nold-1,,lab\nnew-1,secret-one,lab\nnew-2,,lab\n').rows;
  const lookup = (id: string): DeviceRecord | undefined => (id === 'old-1' ? existing : undefined);

  it('refuses existing ids and missing secrets by default, naming the lines', () => {
    expect(planDeviceImport(rows, lookup, { update: false, generateSecrets: false })).toEqual({
      planned: [{ row: rows[1], existing: undefined, secret: { kind: 'given', value: 'secret-one' } }],
      problems: [
        { line: 2, reason: 'device old-1 exists already (--update replaces it)' },
        { line: 4, reason: expect.stringMatching(/^device new-2 has no secret/) as unknown },
      ],
    });
  });

  it('updates existing devices keeping their secret, and generates missing secrets when asked', () => {
    const { planned, problems } = planDeviceImport(rows, lookup, { update: true, generateSecrets: true });
    expect(problems).toEqual([]);
    expect(planned.map((plan) => [plan.row.deviceId, plan.secret.kind])).toEqual([
      ['old-1', 'keep'],
      ['new-1', 'given'],
      ['new-2', 'generate'],
    ]);
    expect(importedRecord(planned[0]!, existing.secretHash, 100)).toEqual({ deviceId: 'old-1', secretHash: 'scrypt$stored', enabled: false, site: 'lab', createdAtMs: 5, updatedAtMs: 100 });
    expect(importedRecord(planned[1]!, 'h', 100)).toEqual({ deviceId: 'new-1', secretHash: 'h', enabled: true, site: 'lab', createdAtMs: 100, updatedAtMs: 100 });
  });
});
