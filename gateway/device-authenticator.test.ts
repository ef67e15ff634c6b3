import { describe, expect, it } from 'vitest';
import { hashSecret, verifySecret, type DeviceRecord } from '../core/device-record.ts';
import { createDeviceAuthenticator, type AuthLimits, type ConnectAttempt } from './device-authenticator.ts';

const fastHash = { N: 1024 };
const roomyLimits: AuthLimits = {
  failureBurstPerAddress: 1000,
  failureBurstPerDevice: 1000,
  failureRefillMs: 1000,
  trackedKeysMax: 1000,
  concurrentVerifications: 2,
  queuedVerificationsMax: 100,
};

async function device(deviceId: string, secret: string, enabled = true): Promise<DeviceRecord> {
  return { deviceId, secretHash: await hashSecret(secret, fastHash), enabled, createdAtMs: 1, updatedAtMs: 1 };
}

function attempt(overrides: Partial<ConnectAttempt>): ConnectAttempt {
  return { clientId: 'd1', cleanSession: true, username: 'd1', password: Buffer.from('s3cret'), certificateDeviceId: undefined, remoteAddress: '10.0.0.1', ...overrides };
}

describe('createDeviceAuthenticator', async () => {
  const devices = new Map<string, DeviceRecord>([
    ['d1', await device('d1', 's3cret')],
    ['off', await device('off', 'pw', false)],
  ]);
  const auth = createDeviceAuthenticator({ lookup: (id) => devices.get(id), limits: roomyLimits });

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

describe('createDeviceAuthenticator under hostile CONNECTs', async () => {
  const devices = new Map<string, DeviceRecord>([
    ['d1', await device('d1', 's3cret')],
    ['off', await device('off', 'pw', false)],
  ]);
  const counting = (): { hashed: string[]; verify: (secret: Buffer, stored: string) => Promise<boolean> } => {
    const hashed: string[] = [];
    return {
      hashed,
      verify: (secret, stored) => {
        hashed.push(stored);
        return verifySecret(secret, stored);
      },
    };
  };

  it('verifies a hash for unknown and disabled ids as for known ones, with the default parameters for unknown ids', async () => {
    const { hashed, verify } = counting();
    const auth = createDeviceAuthenticator({ lookup: (id) => devices.get(id), limits: roomyLimits, verify });
    expect(await auth.authenticate(attempt({ password: Buffer.from('nope') }))).toMatchObject({ ok: false, returnCode: 4, refusal: 'bad_credentials' });
    expect(await auth.authenticate(attempt({ clientId: 'ghost', username: 'ghost', password: Buffer.from('nope') }))).toMatchObject({ ok: false, returnCode: 4, refusal: 'bad_credentials' });
    expect(await auth.authenticate(attempt({ clientId: 'off', username: 'off', password: Buffer.from('nope') }))).toMatchObject({ ok: false, returnCode: 4 });
    expect(hashed).toHaveLength(3);
    expect(hashed[0]).toBe(devices.get('d1')!.secretHash);
    expect(hashed[1]).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hashed[2]).toBe(devices.get('off')!.secretHash);
  });

  it('refuses an address out of failures without hashing, and lets it try again after the refill', async () => {
    const { hashed, verify } = counting();
    let nowMs = 0;
    const limits = { ...roomyLimits, failureBurstPerAddress: 3, failureRefillMs: 1000 };
    const auth = createDeviceAuthenticator({ lookup: (id) => devices.get(id), limits, verify, now: () => nowMs });
    const wrong = attempt({ password: Buffer.from('nope') });
    for (let i = 0; i < 3; i += 1) expect(await auth.authenticate(wrong)).toMatchObject({ refusal: 'bad_credentials' });
    expect(await auth.authenticate(wrong)).toMatchObject({ ok: false, returnCode: 5, refusal: 'rate_limited' });
    expect(await auth.authenticate(attempt({ clientId: 'ghost', username: 'ghost' }))).toMatchObject({ refusal: 'rate_limited' });
    expect(await auth.authenticate(attempt({ remoteAddress: '10.0.0.2' }))).toMatchObject({ ok: true });
    expect(hashed).toHaveLength(4);
    nowMs += 1000;
    expect(await auth.authenticate(attempt({}))).toMatchObject({ ok: true });
  });

  it('limits a device id whatever the address, but still accepts the secret it already verified', async () => {
    const { hashed, verify } = counting();
    const limits = { ...roomyLimits, failureBurstPerDevice: 2 };
    const auth = createDeviceAuthenticator({ lookup: (id) => devices.get(id), limits, verify });
    expect(await auth.authenticate(attempt({}))).toMatchObject({ ok: true });
    for (const remoteAddress of ['10.0.1.1', '10.0.1.2']) {
      expect(await auth.authenticate(attempt({ password: Buffer.from('nope'), remoteAddress }))).toMatchObject({ refusal: 'bad_credentials' });
    }
    expect(await auth.authenticate(attempt({ password: Buffer.from('nope'), remoteAddress: '10.0.1.3' }))).toMatchObject({ refusal: 'rate_limited' });
    expect(await auth.authenticate(attempt({ remoteAddress: '10.0.1.4' }))).toMatchObject({ ok: true, deviceId: 'd1' });
    expect(hashed).toHaveLength(3);
  });

  it('refuses with server unavailable when the verification queue is full, and counts nothing against the caller', async () => {
    const release: Array<() => void> = [];
    const verify = (): Promise<boolean> => new Promise((resolve) => release.push(() => resolve(false)));
    const limits = { ...roomyLimits, concurrentVerifications: 1, queuedVerificationsMax: 1, failureBurstPerAddress: 2 };
    const auth = createDeviceAuthenticator({ lookup: (id) => devices.get(id), limits, verify });
    const wrong = attempt({ password: Buffer.from('nope') });
    const first = auth.authenticate(wrong);
    const second = auth.authenticate(attempt({ password: Buffer.from('nope'), remoteAddress: '10.0.2.1' }));
    expect(await auth.authenticate(attempt({ password: Buffer.from('nope'), remoteAddress: '10.0.2.2' }))).toMatchObject({ ok: false, returnCode: 3, refusal: 'busy' });
    release.shift()!();
    await Promise.resolve();
    await first;
    release.shift()!();
    expect(await second).toMatchObject({ refusal: 'bad_credentials' });
    // the busy refusal took no failure from 10.0.0.1's bucket of two: one more attempt is still allowed
    const third = auth.authenticate(wrong);
    await Promise.resolve();
    release.shift()!();
    expect(await third).toMatchObject({ refusal: 'bad_credentials' });
    expect(await auth.authenticate(wrong)).toMatchObject({ refusal: 'rate_limited' });
  });
  it('tells devices behind one address to come back (3), not that they are refused (5), while its bucket is held by verifications in flight', async () => {
    const release: Array<() => void> = [];
    const verify = (secret: Buffer, stored: string): Promise<boolean> => new Promise((resolve) => release.push(() => void verifySecret(secret, stored).then(resolve)));
    const limits = { ...roomyLimits, failureBurstPerAddress: 2 };
    const auth = createDeviceAuthenticator({ lookup: (id) => devices.get(id), limits, verify });
    const right = attempt({ remoteAddress: '10.0.3.1' });
    const inFlight = [auth.authenticate(right), auth.authenticate(right)];
    expect(await auth.authenticate(right)).toMatchObject({ ok: false, returnCode: 3, refusal: 'busy' });
    for (const done of release.splice(0)) done();
    for (const result of await Promise.all(inFlight)) expect(result).toMatchObject({ ok: true });
    // the right secret is remembered now; a wrong one from the same address still has its two failures
    expect(await auth.authenticate(right)).toMatchObject({ ok: true });
  });
});
