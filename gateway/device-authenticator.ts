/**
 * Decides whether a CONNECT may proceed, from the device registry. Returns MQTT 3.1.1 CONNACK
 * return codes: 2 identifier rejected, 3 server unavailable (verifications queue full), 4 bad user
 * name or password, 5 not authorized (also: too many failed attempts).
 *
 * Secrets are stored only as scrypt hashes. Verifying one costs tens of milliseconds of CPU by
 * design, so a reconnect storm would stall the gateway; successful verifications are remembered
 * in memory as a SHA-256 of the presented secret, tied to the stored hash (a rotation invalidates
 * it), and compared in constant time. A remembered secret is accepted even while its id is rate
 * limited, so a flood against a device's id does not lock out the device that holds the secret.
 *
 * Hostile CONNECTs are cheap to refuse: every other attempt takes a token from its client address's
 * and its device id's failure buckets before any hashing (none left: refused at once, with CONNACK 5,
 * or 3 while the bucket is empty only because its own attempts are being verified), and hashes
 * through a bounded queue (full: refused at once). Unknown ids are verified against an unmatchable
 * hash with the default parameters, so a refusal takes as long whether the id exists or not.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { DeviceRecord } from '../core/device-record.ts';
import { unmatchableSecretHash, verifySecret } from '../core/device-record.ts';
import { checkClientId } from './acl.ts';
import { createAuthFailureLimiter } from './auth-failure-limiter.ts';
import { createVerificationQueue } from './verification-queue.ts';

/** Why a CONNECT was refused, as metrics count it. */
export type AuthRefusal = 'bad_client_id' | 'bad_credentials' | 'not_authorized' | 'rate_limited' | 'busy';

export type AuthDecision =
  | { ok: true; deviceId: string; method: 'secret' | 'certificate' }
  | { ok: false; returnCode: 2 | 3 | 4 | 5; refusal: AuthRefusal; reason: string };

export interface ConnectAttempt {
  clientId: string;
  cleanSession: boolean;
  username: string | undefined;
  password: Buffer | undefined;
  /** Device id named by a client certificate the TLS layer verified against our CA, if any. */
  certificateDeviceId: string | undefined;
  /** The peer's address; failures are counted against it. */
  remoteAddress: string | undefined;
}

/** Bounds on the work failed CONNECTs may cause. */
export interface AuthLimits {
  /** Failed attempts one client address may make in a row before it is refused without hashing. */
  failureBurstPerAddress: number;
  /** The same per device id, whatever address the attempts come from. */
  failureBurstPerDevice: number;
  /** Each address and device id earns one more attempt every this many ms. */
  failureRefillMs: number;
  /** Addresses, and separately device ids, tracked at once; the least recently failed is forgotten first. */
  trackedKeysMax: number;
  /** Secret verifications (scrypt) running at once. */
  concurrentVerifications: number;
  /** Verifications waiting for a slot; more are refused with CONNACK 3. */
  queuedVerificationsMax: number;
}

export interface DeviceAuthenticator {
  authenticate(attempt: ConnectAttempt): Promise<AuthDecision>;
}

export function createDeviceAuthenticator(options: {
  lookup: (deviceId: string) => DeviceRecord | undefined;
  limits: AuthLimits;
  cacheMaxEntries?: number;
  /** The scrypt verification; tests count its calls. */
  verify?: (secret: Buffer, stored: string) => Promise<boolean>;
  now?: () => number;
}): DeviceAuthenticator {
  const { limits } = options;
  const verify = options.verify ?? verifySecret;
  const verified = new Map<string, { secretHash: string; digest: Buffer }>();
  const cacheMax = options.cacheMaxEntries ?? 100_000;
  const digestOf = (secret: Buffer): Buffer => createHash('sha256').update(secret).digest();
  const byAddress = createAuthFailureLimiter({ burst: limits.failureBurstPerAddress, refillMs: limits.failureRefillMs, maxKeys: limits.trackedKeysMax, now: options.now });
  const byDevice = createAuthFailureLimiter({ burst: limits.failureBurstPerDevice, refillMs: limits.failureRefillMs, maxKeys: limits.trackedKeysMax, now: options.now });
  const queue = createVerificationQueue({ concurrency: limits.concurrentVerifications, queueMax: limits.queuedVerificationsMax });
  const unmatchable = unmatchableSecretHash();

  const refuse = (returnCode: 2 | 3 | 4 | 5, refusal: AuthRefusal, reason: string): AuthDecision => ({ ok: false, returnCode, refusal, reason });
  const accept = (device: DeviceRecord): AuthDecision =>
    device.enabled ? { ok: true, deviceId: device.deviceId, method: 'secret' } : refuse(5, 'not_authorized', 'device disabled');

  const remembered = (device: DeviceRecord, digest: Buffer): boolean => {
    const cached = verified.get(device.deviceId);
    return cached !== undefined && cached.secretHash === device.secretHash && timingSafeEqual(cached.digest, digest);
  };

  const remember = (device: DeviceRecord, digest: Buffer): void => {
    if (verified.size >= cacheMax) verified.delete(verified.keys().next().value!);
    verified.set(device.deviceId, { secretHash: device.secretHash, digest });
  };

  return {
    async authenticate(attempt) {
      const idCheck = checkClientId(attempt.clientId, attempt.cleanSession);
      if (!idCheck.ok) return refuse(2, 'bad_client_id', idCheck.reason);
      const deviceId = attempt.clientId;
      const device = options.lookup(deviceId);
      if (attempt.certificateDeviceId !== undefined) {
        if (attempt.certificateDeviceId !== deviceId) return refuse(5, 'not_authorized', 'certificate names another device');
        if (!device) return refuse(5, 'not_authorized', 'unknown device');
        if (!device.enabled) return refuse(5, 'not_authorized', 'device disabled');
        return { ok: true, deviceId, method: 'certificate' };
      }
      // Unknown devices and wrong secrets get the same answer, so the gateway does not reveal which ids exist.
      if (attempt.username !== deviceId || !attempt.password || attempt.password.length === 0) {
        return refuse(4, 'bad_credentials', 'user name must be the device id, with a secret');
      }
      const password = attempt.password;
      const digest = digestOf(password);
      if (device && remembered(device, digest)) return accept(device);

      const address = attempt.remoteAddress ?? '';
      const addressSlot = byAddress.take(address);
      const deviceSlot = addressSlot === 'taken' ? byDevice.take(deviceId) : 'limited';
      if (addressSlot !== 'taken' || deviceSlot !== 'taken') {
        if (addressSlot === 'taken') byAddress.release(address, false);
        const busy = addressSlot === 'busy' || (addressSlot === 'taken' && deviceSlot === 'busy');
        const where = addressSlot === 'taken' ? 'for this device id' : 'from this address';
        return busy ? refuse(3, 'busy', `attempts ${where} are being verified; try again`) : refuse(5, 'rate_limited', `too many failed attempts ${where}`);
      }
      // An unknown id costs a full verification too: refusing it must take as long as a wrong secret.
      const verification = queue.tryRun(() => verify(password, device?.secretHash ?? unmatchable));
      if (!verification) {
        byAddress.release(address, false);
        byDevice.release(deviceId, false);
        return refuse(3, 'busy', 'too many secret verifications waiting');
      }
      const matches = await verification.catch((error: unknown) => {
        byAddress.release(address, false);
        byDevice.release(deviceId, false);
        throw error;
      });
      const failed = !device || !matches;
      byAddress.release(address, failed);
      byDevice.release(deviceId, failed);
      if (failed) return refuse(4, 'bad_credentials', device ? 'wrong secret' : 'unknown device');
      remember(device, digest);
      return accept(device);
    },
  };
}
