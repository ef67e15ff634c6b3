import { describe, expect, it } from 'vitest';
import { hashSecret, type DeviceRecord } from '../core/device-record.ts';
import { createDeviceAuthenticator, type ConnectAttempt } from './device-authenticator.ts';

const fastHash = { N: 1024 };

async function device(deviceId: string, secret: string, enabled = true): Promise<DeviceRecord> {
  return { deviceId, secretHash: await hashSecret(secret, fastHash), enabled, createdAtMs: 1, updatedAtMs: 1 };
}

function attempt(overrides: Partial<ConnectAttempt>): ConnectAttempt {
  return { clientId: 'd1', cleanSession: true, username: 'd1', password: Buffer.from('s3cret'), certificateDeviceId: undefined, ...overrides };
}

describe('createDeviceAuthenticator', async () => {
  const devices = new Map<string, DeviceRecord>([
    ['d1', await device('d1', 's3cret')],
    ['off', await device('off', 'pw', false)],
  ]);
  const auth = createDeviceAuthenticator({ lookup: (id) => devices.get(id) });

  it('accepts the right secret, also from the cache', async () => {
    expect(await auth.authenticate(attempt({}))).toEqual({ ok: true, deviceId: 'd1', method: 'secret' });
    expect(await auth.authenticate(attempt({}))).toEqual({ ok: true, deviceId: 'd1', method: 'secret' });
  });

  it('refuses wrong secrets, unknown devices and mismatched user names with code 4', async () => {
    expect(await auth.authenticate(attempt({ password: Buffer.from('nope') }))).toMatchObject({ ok: false, returnCode: 4 });
    expect(await auth.authenticate(attempt({ clientId: 'ghost', username: 'ghost' }))).toMatchObject({ ok: false, returnCode: 4 });
    expect(await auth.authenticate(attempt({ username: 'other' }))).toMatchObject({ ok: false, returnCode: 4 });
    expect(await auth.authenticate(attempt({ password: undefined }))).toMatchObject({ ok: false, returnCode: 4 });
  });

  it('refuses disabled devices with code 5 and bad client ids with code 2', async () => {
    expect(await auth.authenticate(attempt({ clientId: 'off', username: 'off', password: Buffer.from('pw') }))).toMatchObject({ ok: false, returnCode: 5 });
    expect(await auth.authenticate(attempt({ clientId: '', cleanSession: false }))).toMatchObject({ ok: false, returnCode: 2 });
  });

  it('forgets a cached secret when the device secret rotates', async () => {
    expect(await auth.authenticate(attempt({}))).toMatchObject({ ok: true });
    devices.set('d1', await device('d1', 'rotated'));
    expect(await auth.authenticate(attempt({}))).toMatchObject({ ok: false, returnCode: 4 });
    expect(await auth.authenticate(attempt({ password: Buffer.from('rotated') }))).toMatchObject({ ok: true });
  });

  it('accepts a verified certificate only for the device it names', async () => {
    expect(await auth.authenticate(attempt({ username: undefined, password: undefined, certificateDeviceId: 'd1' }))).toMatchObject({ ok: true, method: 'certificate' });
    expect(await auth.authenticate(attempt({ certificateDeviceId: 'd2' }))).toMatchObject({ ok: false, returnCode: 5 });
  });
});
