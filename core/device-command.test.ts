import { describe, expect, it } from 'vitest';
import {
  buildDeviceCommand,
  commandDeliveryPayload,
  decodeCommandEvent,
  decodeCommandResult,
  decodeDeviceCommand,
  encodeCommandEvent,
  encodeDeviceCommand,
  readCommandDelivery,
  validateDeviceCommand,
  type DeviceCommand,
} from './device-command.ts';

const command: DeviceCommand = {
  v: 1,
  commandId: 'c-1',
  deviceId: 'dev-1',
  name: 'reboot',
  params: { delayS: 5 },
  qos: 1,
  issuedAtMs: 1_000,
  expiresAtMs: 61_000,
};

describe('device commands', () => {
  it('round-trips a command through its record', () => {
    expect(decodeDeviceCommand('dev-1', encodeDeviceCommand(command))).toEqual({ ok: true, value: command });
  });

  it('refuses a record keyed by another device', () => {
    const decoded = decodeDeviceCommand('dev-2', encodeDeviceCommand(command));
    expect(decoded).toMatchObject({ ok: false, reason: 'invalid' });
    expect(!decoded.ok && decoded.detail).toContain('deviceId');
  });

  it('lists every problem of a bad command', () => {
    const checked = validateDeviceCommand({ ...command, name: 'a/b', qos: 2, params: [] });
    expect(checked.ok).toBe(false);
    const detail = checked.ok ? '' : (checked.detail ?? '');
    expect(detail).toContain('name');
    expect(detail).toContain('qos');
    expect(detail).toContain('params');
  });

  it('refuses an expiry that is not after the issue time', () => {
    expect(validateDeviceCommand({ ...command, expiresAtMs: command.issuedAtMs })).toMatchObject({ ok: false });
  });

  it('refuses params too large to deliver', () => {
    expect(validateDeviceCommand({ ...command, params: { blob: 'x'.repeat(17_000) } })).toMatchObject({ ok: false });
  });

  it('tells non-JSON from invalid', () => {
    expect(decodeDeviceCommand('dev-1', Buffer.from('{'))).toMatchObject({ ok: false, reason: 'not_json' });
    expect(decodeDeviceCommand('dev-1', null)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('delivers what the device needs and reads its id and expiry back', () => {
    const payload = commandDeliveryPayload({ ...command, correlationId: 'ticket-9' });
    expect(JSON.parse(payload.toString())).toEqual({ commandId: 'c-1', name: 'reboot', params: { delayS: 5 }, issuedAtMs: 1_000, expiresAtMs: 61_000, correlationId: 'ticket-9' });
    expect(readCommandDelivery(payload)).toEqual({ commandId: 'c-1', issuedAtMs: 1_000, expiresAtMs: 61_000 });
    expect(readCommandDelivery(Buffer.from('{"temperature":1}'))).toBeNull();
  });

  it('decodes events and device results', () => {
    const event = { v: 1 as const, type: 'delivered' as const, commandId: 'c-1', deviceId: 'dev-1', atMs: 2_000, gatewayId: 'gw-a' };
    expect(decodeCommandEvent(encodeCommandEvent(event))).toEqual({ ok: true, value: event });
    expect(decodeCommandEvent(Buffer.from(JSON.stringify({ ...event, type: 'lost' })))).toMatchObject({ ok: false });
    expect(decodeCommandResult(Buffer.from('{"commandId":"c-1","status":"success","uptimeS":3}'))).toEqual({ ok: true, value: { commandId: 'c-1', status: 'success', uptimeS: 3 } });
    expect(decodeCommandResult(Buffer.from('{"commandId":"c-1","status":"maybe"}'))).toMatchObject({ ok: false, reason: 'invalid' });
  });
});

describe('buildDeviceCommand', () => {
  const request = { deviceId: 'dev-1', name: 'reboot', params: {}, qos: 1, ttl: '10m' };

  it('builds the command a submitter writes: the given id, issued now, expiring after the ttl', () => {
    expect(buildDeviceCommand({ ...request, correlationId: 'op-1' }, { commandId: 'c-1', nowMs: 1000 })).toEqual({
      ok: true,
      value: { v: 1, commandId: 'c-1', deviceId: 'dev-1', name: 'reboot', params: {}, qos: 1, issuedAtMs: 1000, expiresAtMs: 601_000, correlationId: 'op-1' },
    });
  });

  it('names the field of every problem at once', () => {
    const built = buildDeviceCommand({ deviceId: 'a b', name: 'x/y', params: [1], qos: 2, ttl: '45d', correlationId: '' }, { commandId: 'c-1', nowMs: 1000 });
    expect(built.ok).toBe(false);
    const fields = built.ok ? [] : built.problems.map((problem) => problem.field).sort();
    expect(fields).toEqual(['correlationId', 'deviceId', 'name', 'params', 'qos', 'ttl']);
    expect(built.ok ? [] : built.problems.filter((problem) => problem.field === 'ttl' || problem.field === 'qos' || problem.field === 'params')).toEqual([
      { field: 'ttl', detail: '"45d": must be between 1s and 30d' },
      { field: 'params', detail: 'must be a JSON object' },
      { field: 'qos', detail: 'must be 0 or 1' },
    ]);
  });
});
