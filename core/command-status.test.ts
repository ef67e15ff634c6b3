import { describe, expect, it } from 'vitest';
import { commandReached, foldCommandEvents, type CommandStatus } from './command-status.ts';
import type { CommandEvent, DeviceCommand } from './device-command.ts';

const command: DeviceCommand = { v: 1, commandId: 'c-1', deviceId: 'dev-1', name: 'reboot', params: {}, qos: 1, issuedAtMs: 1000, expiresAtMs: 61_000 };
const base = { v: 1, commandId: 'c-1', deviceId: 'dev-1' } as const;
const accepted: CommandEvent = { ...base, type: 'accepted', atMs: 1001, command };
const queued: CommandEvent = { ...base, type: 'queued', atMs: 1100, gatewayId: 'gw-a' };
const delivered: CommandEvent = { ...base, type: 'delivered', atMs: 1200, gatewayId: 'gw-a' };
const succeeded: CommandEvent = { ...base, type: 'result', atMs: 1500, gatewayId: 'gw-b', status: 'success', result: { commandId: 'c-1', status: 'success', uptimeS: 3 } };
const expired: CommandEvent = { ...base, type: 'expired', atMs: 61_000, gatewayId: 'gw-a', reason: 'expired_before_delivery' };

function fold(events: readonly CommandEvent[]): CommandStatus {
  const status = foldCommandEvents('c-1', events);
  if (!status) throw new Error('expected a status');
  return status;
}

/** Every ordering of `items`. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

describe('foldCommandEvents', () => {
  it('has no status without events of the command', () => {
    expect(foldCommandEvents('c-1', [])).toBeNull();
    expect(foldCommandEvents('c-2', [accepted])).toBeNull();
  });

  it('follows the chain to the device and takes its answer', () => {
    expect(fold([accepted])).toMatchObject({ state: 'accepted', terminal: false, command, deviceId: 'dev-1', deliveryCount: 0, result: null });
    expect(fold([accepted, queued]).state).toBe('queued');
    expect(fold([accepted, queued, delivered])).toMatchObject({ state: 'delivered', terminal: false, deliveryCount: 1 });
    expect(fold([accepted, queued, delivered, succeeded])).toMatchObject({
      state: 'result',
      terminal: true,
      result: { status: 'success', atMs: 1500, payload: { uptimeS: 3 } },
      reason: null,
      gatewayIds: ['gw-a', 'gw-b'],
      steps: { accepted: { firstAtMs: 1001, lastAtMs: 1001, count: 1 }, delivered: { firstAtMs: 1200, lastAtMs: 1200, count: 1 } },
      anomalies: [],
    });
  });

  it('gives the same status whatever order the events are read in', () => {
    const events = [accepted, queued, delivered, { ...delivered, atMs: 1300, gatewayId: 'gw-b' }, succeeded];
    const expected = fold(events);
    for (const order of permutations(events)) expect(fold(order)).toEqual(expected);
    expect(expected.events.map((event) => event.type)).toEqual(['accepted', 'queued', 'delivered', 'delivered', 'result']);
  });

  it("does not believe another device's answer to the command", () => {
    const forged: CommandEvent = { ...succeeded, deviceId: 'dev-2', status: 'failure' };
    const status = fold([accepted, queued, delivered, forged]);
    expect(status).toMatchObject({ state: 'delivered', deviceId: 'dev-1', result: null });
    expect(status.anomalies).toEqual(["events name more than one device (only the command's own count): dev-1, dev-2"]);
  });

  it('counts distinct deliveries, and the same event written twice once', () => {
    const redelivered = { ...delivered, atMs: 5000 };
    const status = fold([accepted, delivered, delivered, redelivered, { ...redelivered }]);
    expect(status.deliveryCount).toBe(2);
    expect(status.steps.delivered).toEqual({ firstAtMs: 1200, lastAtMs: 5000, count: 2 });
    expect(status.events).toHaveLength(3);
  });

  it('takes the furthest step even when an earlier one was not seen', () => {
    expect(fold([delivered])).toMatchObject({ state: 'delivered', command: null });
    expect(fold([queued, accepted]).state).toBe('queued');
  });

  it('ends on expired or failed with the reason', () => {
    expect(fold([accepted, queued, expired])).toMatchObject({ state: 'expired', terminal: true, reason: 'expired_before_delivery', detail: null, anomalies: [] });
    const failed: CommandEvent = { ...base, type: 'failed', atMs: 1050, reason: 'no_session', detail: 'the device never connected with a persistent session' };
    expect(fold([failed, accepted])).toMatchObject({ state: 'failed', reason: 'no_session', detail: 'the device never connected with a persistent session' });
  });

  it('shows a delivery after expiry honestly: still expired, the delivery kept, the contradiction named', () => {
    const late = { ...delivered, atMs: 62_000 };
    const status = fold([accepted, expired, late]);
    expect(status).toMatchObject({ state: 'expired', deliveryCount: 1, steps: { delivered: { firstAtMs: 62_000 } } });
    expect(status.anomalies).toEqual([`delivered at ${new Date(62_000).toISOString()}, after it expired at ${new Date(61_000).toISOString()}`]);
  });

  it("lets the device's answer win over expired or failed, and names both outcomes", () => {
    const status = fold([expired, succeeded, accepted]);
    expect(status).toMatchObject({ state: 'result', reason: null, result: { status: 'success' } });
    expect(status.anomalies).toEqual(['more than one outcome: result, expired']);
    const failedFirst = fold([{ ...base, type: 'failed', atMs: 2000, reason: 'no_session' }, { ...expired, atMs: 3000 }]);
    expect(failedFirst).toMatchObject({ state: 'failed', reason: 'no_session' });
  });

  it('keeps the first answer when the device answered twice', () => {
    const second: CommandEvent = { ...succeeded, atMs: 2500, status: 'failure', result: { commandId: 'c-1', status: 'failure' } };
    const status = fold([second, succeeded]);
    expect(status.result).toMatchObject({ status: 'success', atMs: 1500 });
    expect(status.steps.result?.count).toBe(2);
    expect(status.anomalies).toEqual(['the device answered both success and failure']);
  });
});

describe('commandReached', () => {
  it('waits for a step, counting later steps as having passed it', () => {
    expect(commandReached(null, 'accepted')).toBe('pending');
    expect(commandReached(fold([accepted]), 'accepted')).toBe('reached');
    expect(commandReached(fold([accepted]), 'delivered')).toBe('pending');
    expect(commandReached(fold([delivered]), 'queued')).toBe('reached');
    expect(commandReached(fold([succeeded]), 'delivered')).toBe('reached');
  });

  it('waits for an outcome, and gives up when the command ended another way', () => {
    expect(commandReached(fold([accepted, delivered]), 'result')).toBe('pending');
    expect(commandReached(fold([accepted, succeeded]), 'result')).toBe('reached');
    expect(commandReached(fold([accepted, expired]), 'result')).toBe('unreachable');
    expect(commandReached(fold([accepted, expired]), 'delivered')).toBe('unreachable');
    expect(commandReached(fold([accepted, expired]), 'expired')).toBe('reached');
    expect(commandReached(fold([accepted, expired]), 'terminal')).toBe('reached');
    expect(commandReached(fold([accepted, queued]), 'terminal')).toBe('pending');
  });
});
