import { describe, expect, it } from 'vitest';
import { encodeDeviceRecord, type DeviceRecord } from './device-record.ts';
import { createDeviceRegistry, type DeviceChange } from './device-registry.ts';
import type { ConsumedRecord, TopicFollowerPort } from './kafka-port.ts';
import { createLogger } from './logger.ts';

const secretHash = `scrypt$16$1$1$${Buffer.alloc(16, 1).toString('base64')}$${Buffer.alloc(32, 2).toString('base64')}`;

function device(deviceId: string, overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return { deviceId, secretHash, enabled: true, createdAtMs: 1_700_000_000_000, updatedAtMs: 1_700_000_000_000, ...overrides };
}

/** A follower whose records and catch-up the test hands over by hand, in the order a real topic would. */
function createManualFollower() {
  let onRecord: ((record: ConsumedRecord) => void) | null = null;
  let nextOffset = 0;
  let markCaughtUp: () => void = () => undefined;
  let failCatchUp: (error: Error) => void = () => undefined;
  const caughtUp = new Promise<void>((resolve, reject) => {
    markCaughtUp = resolve;
    failCatchUp = reject;
  });
  let stops = 0;
  const follower: TopicFollowerPort = {
    async start(handler) {
      onRecord = handler;
    },
    caughtUp: () => caughtUp,
    async stop() {
      stops += 1;
    },
  };
  const deliver = (key: string | null, value: Buffer | null): void => {
    if (onRecord === null) throw new Error('the registry has not started the follower');
    const offset = String(nextOffset++);
    onRecord({ topic: 'iot.devices', partition: 0, offset, key: key === null ? null : Buffer.from(key), value, headers: {}, timestampMs: 0 });
  };
  return {
    follower,
    /** Writes a device record, as `tributary devices` does. */
    put: (rec: DeviceRecord) => deliver(rec.deviceId, encodeDeviceRecord(rec)),
    remove: (deviceId: string) => deliver(deviceId, null),
    deliver,
    markCaughtUp: () => markCaughtUp(),
    failCatchUp: (error: Error) => failCatchUp(error),
    stops: () => stops,
  };
}

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { logger, lines };
}

function setUp() {
  const manual = createManualFollower();
  const { logger, lines } = capturedLogger();
  const registry = createDeviceRegistry({ follower: manual.follower, logger });
  const changes: DeviceChange[] = [];
  registry.onChange((change) => changes.push(change));
  return { ...manual, registry, lines, changes };
}

async function started(t: ReturnType<typeof setUp>, records: (t: ReturnType<typeof setUp>) => void = () => undefined): Promise<void> {
  const start = t.registry.start();
  await Promise.resolve();
  records(t);
  t.markCaughtUp();
  await start;
}

describe('createDeviceRegistry', () => {
  it('starts nothing before start (the factory does no I/O)', () => {
    const t = setUp();
    expect(() => t.put(device('d1'))).toThrow(/not started/);
    expect(t.registry.get('d1')).toBeUndefined();
  });

  it('resolves start only once the follower has caught up, with every record read until then', async () => {
    const t = setUp();
    let resolved = false;
    const start = t.registry.start().then(() => {
      resolved = true;
    });
    await Promise.resolve();
    t.put(device('d1'));
    t.put(device('d2', { site: 'plant-7' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    // already readable while loading: the gateway does not serve before start resolves anyway
    expect(t.registry.get('d1')).toEqual(device('d1'));

    t.markCaughtUp();
    await start;
    expect(resolved).toBe(true);
    expect([...t.registry.all()].map((d) => d.deviceId)).toEqual(['d1', 'd2']);
    expect(t.registry.get('d2')?.site).toBe('plant-7');
    expect(t.lines.find((line) => line.msg === 'device registry loaded')).toMatchObject({ devices: 2, component: 'device-registry' });
  });

  it('fails start when catching up fails', async () => {
    const t = setUp();
    const start = t.registry.start();
    t.failCatchUp(new Error('brokers unreachable'));
    await expect(start).rejects.toThrow('brokers unreachable');
  });

  it('keeps the latest record of a device and reports each change with before and after', async () => {
    const t = setUp();
    await started(t, (s) => s.put(device('d1')));
    const rotated = device('d1', { secretHash: secretHash.replace('AQEB', 'AwMD'), updatedAtMs: 1_700_000_000_900 });
    t.put(rotated);
    expect(t.registry.get('d1')).toEqual(rotated);
    expect(t.changes).toEqual([
      { deviceId: 'd1', before: undefined, after: device('d1') },
      { deviceId: 'd1', before: device('d1'), after: rotated },
    ]);
  });

  it('keeps disabled devices, so the gateway can tell a disabled device from an unknown one', async () => {
    const t = setUp();
    await started(t, (s) => s.put(device('d1')));
    t.put(device('d1', { enabled: false }));
    expect(t.registry.get('d1')?.enabled).toBe(false);
    expect([...t.registry.all()]).toHaveLength(1);
    expect(t.changes.at(-1)).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
  });

  it('removes a device on a tombstone', async () => {
    const t = setUp();
    await started(t, (s) => {
      s.put(device('d1'));
      s.put(device('d2'));
    });
    t.remove('d1');
    expect(t.registry.get('d1')).toBeUndefined();
    expect([...t.registry.all()].map((d) => d.deviceId)).toEqual(['d2']);
    expect(t.changes.at(-1)).toEqual({ deviceId: 'd1', before: device('d1'), after: undefined });
  });

  it('reports a tombstone for a device it never had as a change from nothing to nothing', async () => {
    const t = setUp();
    await started(t);
    t.remove('ghost');
    expect(t.changes).toEqual([{ deviceId: 'ghost', before: undefined, after: undefined }]);
  });

  it('skips a bad record with a warning naming the device, offset and reason, keeping the last good record', async () => {
    const t = setUp();
    await started(t, (s) => s.put(device('d1', { site: 'plant-7' })));
    t.deliver('d1', Buffer.from(JSON.stringify({ ...device('d1'), calibration: { 'air temp': { scale: 1, offset: 0 } } })));
    t.deliver('d1', Buffer.from('{not json'));

    expect(t.registry.get('d1')?.site).toBe('plant-7');
    expect(t.changes).toHaveLength(1);
    const warnings = t.lines.filter((line) => line.msg === 'skipping invalid device record');
    expect(warnings).toEqual([
      expect.objectContaining({ level: 40, deviceId: 'd1', offset: '1', reason: 'calibration has an invalid metric name "air temp"' }),
      expect.objectContaining({ level: 40, deviceId: 'd1', offset: '2', reason: expect.stringMatching(/^value is not valid JSON/) as unknown }),
    ]);
  });

  it('skips records with no key, a bad key, or a key other than their deviceId, and keeps going', async () => {
    const t = setUp();
    await started(t, (s) => {
      s.deliver(null, encodeDeviceRecord(device('d1')));
      s.deliver('a/b', null);
      s.deliver('d2', encodeDeviceRecord(device('d1')));
      s.put(device('d3'));
    });
    expect([...t.registry.all()].map((d) => d.deviceId)).toEqual(['d3']);
    expect(t.lines.filter((line) => line.msg === 'skipping invalid device record').map((line) => line.reason)).toEqual([
      'key "" is not a valid device id',
      'key "a/b" is not a valid device id',
      'deviceId "d1" does not match the record key "d2"',
    ]);
    expect(t.lines.find((line) => line.msg === 'device registry loaded')).toMatchObject({ devices: 1 });
  });

  it('calls every listener, in the order they were added', async () => {
    const t = setUp();
    const order: string[] = [];
    t.registry.onChange(() => order.push('second'));
    t.registry.onChange(() => order.push('third'));
    await started(t, (s) => s.put(device('d1')));
    expect(t.changes).toHaveLength(1);
    expect(order).toEqual(['second', 'third']);
  });

  it('stops the follower on stop', async () => {
    const t = setUp();
    await started(t);
    await t.registry.stop();
    expect(t.stops()).toBe(1);
  });
});
