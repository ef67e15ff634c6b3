/**
 * Decides whether a CONNECT may proceed, from the device registry. Returns MQTT 3.1.1 CONNACK
 * return codes: 2 identifier rejected, 4 bad user name or password, 5 not authorized.
 *
 * Secrets are stored only as scrypt hashes. Verifying one costs tens of milliseconds of CPU by
 * design, so a reconnect storm would stall the gateway; successful verifications are remembered
 * in memory as a SHA-256 of the presented secret, tied to the stored hash (a rotation invalidates
 * it), and compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DeviceRecord } from '../core/device-record.ts';
import { verifySecret } from '../core/device-record.ts';
import { checkClientId } from './acl.ts';

export type AuthDecision = { ok: true; deviceId: string; method: 'secret' | 'certificate' } | { ok: false; returnCode: 2 | 4 | 5; reason: string };

export interface ConnectAttempt {
  clientId: string;
  cleanSession: boolean;
  username: string | undefined;
  password: Buffer | undefined;
  /** Device id named by a client certificate the TLS layer verified against our CA, if any. */
  certificateDeviceId: string | undefined;
}

export interface DeviceAuthenticator {
  authenticate(attempt: ConnectAttempt): Promise<AuthDecision>;
}

export function createDeviceAuthenticator(options: { lookup: (deviceId: string) => DeviceRecord | undefined; cacheMaxEntries?: number }): DeviceAuthenticator {
  const verified = new Map<string, { secretHash: string; digest: Buffer }>();
  const cacheMax = options.cacheMaxEntries ?? 100_000;
  const digestOf = (secret: Buffer): Buffer => createHash('sha256').update(secret).digest();

  const secretMatches = async (device: DeviceRecord, password: Buffer): Promise<boolean> => {
    const digest = digestOf(password);
    const cached = verified.get(device.deviceId);
    if (cached && cached.secretHash === device.secretHash && timingSafeEqual(cached.digest, digest)) return true;
    if (!(await verifySecret(password, device.secretHash))) return false;
    if (verified.size >= cacheMax) verified.delete(verified.keys().next().value!);
    verified.set(device.deviceId, { secretHash: device.secretHash, digest });
    return true;
  };

  return {
    async authenticate(attempt) {
      const idCheck = checkClientId(attempt.clientId, attempt.cleanSession);
      if (!idCheck.ok) return { ok: false, returnCode: 2, reason: idCheck.reason };
      const deviceId = attempt.clientId;
      const device = options.lookup(deviceId);
      if (attempt.certificateDeviceId !== undefined) {
        if (attempt.certificateDeviceId !== deviceId) return { ok: false, returnCode: 5, reason: 'certificate names another device' };
        if (!device) return { ok: false, returnCode: 5, reason: 'unknown device' };
        if (!device.enabled) return { ok: false, returnCode: 5, reason: 'device disabled' };
        return { ok: true, deviceId, method: 'certificate' };
      }
      // Unknown devices and wrong secrets get the same answer, so the gateway does not reveal which ids exist.
      if (attempt.username !== deviceId || !attempt.password || attempt.password.length === 0) {
        return { ok: false, returnCode: 4, reason: 'user name must be the device id, with a secret' };
      }
      if (!device) return { ok: false, returnCode: 4, reason: 'unknown device' };
      if (!(await secretMatches(device, attempt.password))) return { ok: false, returnCode: 4, reason: 'wrong secret' };
      if (!device.enabled) return { ok: false, returnCode: 5, reason: 'device disabled' };
      return { ok: true, deviceId, method: 'secret' };
    },
  };
}
