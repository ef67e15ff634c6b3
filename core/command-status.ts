/**
 * Where a command is: its events on `iot.command-events` (core/device-command.ts) folded into one
 * status. Events come from several producers (the submitter, any gateway replica) and at least
 * once, so the fold goes by what each event means and when it happened (`atMs`), never by the
 * order it was read in: folding any permutation of the same events gives the same status. Pure.
 */
import type { CommandEvent, CommandEventType, DeviceCommand } from './device-command.ts';

/** Steps towards the device, in order; a result implies the command was delivered. */
const progressSteps = ['accepted', 'queued', 'delivered'] as const;
type ProgressStep = (typeof progressSteps)[number];

/** The states that end a command: nothing more is expected to happen to it. */
const terminalStates = ['result', 'expired', 'failed'] as const;

/** `accepted` < `queued` < `delivered` while under way; `result`, `expired` or `failed` once over. */
export type CommandState = CommandEventType;

/** What `--wait` may wait for: a state, or `terminal` (any of result, expired, failed). */
export const commandWaitTargets = [...progressSteps, ...terminalStates, 'terminal'] as const;
export type CommandWaitTarget = (typeof commandWaitTargets)[number];

/** When a step was seen: the earliest and latest event of its type, and how many distinct events. */
export interface CommandStep {
  firstAtMs: number;
  lastAtMs: number;
  count: number;
}

/** One command's status as folded from its events (foldCommandEvents); times are epoch milliseconds. */
export interface CommandStatus {
  commandId: string;
  /** From the events; null only if none carries it (every event does, by its schema). */
  deviceId: string | null;
  /** The command as submitted (from its `accepted` event), or null when that event was not seen. */
  command: DeviceCommand | null;
  state: CommandState;
  terminal: boolean;
  /** Each step seen, by event type. */
  steps: Partial<Record<CommandEventType, CommandStep>>;
  /** Distinct `delivered` events: above 1 means the device got the command more than once (it dedupes by id). */
  deliveryCount: number;
  /** The device's answer: the earliest `result` event's status and payload; null without one. */
  result: { status: 'success' | 'failure'; atMs: number; payload: unknown } | null;
  /** Why the command expired or failed (the terminal event's reason and detail); null otherwise. */
  reason: string | null;
  detail: string | null;
  /** Every gateway that took a step, sorted. */
  gatewayIds: string[];
  /** The distinct events, in the order they happened. */
  events: CommandEvent[];
  /** Combinations the event chain should never show (a delivery after expiry, two outcomes), said plainly. */
  anomalies: string[];
}

const chainOrder: Readonly<Record<CommandEventType, number>> = { accepted: 0, queued: 1, delivered: 2, result: 3, expired: 4, failed: 5 };

/** The same event written twice (a producer retry, a replayed step) is one event. */
function eventIdentity(event: CommandEvent): string {
  return JSON.stringify([event.type, event.atMs, event.gatewayId ?? null, event.status ?? null, event.reason ?? null]);
}

function byTime(a: CommandEvent, b: CommandEvent): number {
  return a.atMs - b.atMs || chainOrder[a.type] - chainOrder[b.type] || eventIdentity(a).localeCompare(eventIdentity(b));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Folds the events of command `commandId` (events of other commands are ignored) into its status;
 * null when there is none. The state is the earliest outcome by `atMs` among a `result` (which
 * wins over expired/failed: the device's own answer is the strongest evidence), `expired` and
 * `failed`; otherwise the furthest step reached. Contradictions are kept and listed in `anomalies`.
 */
export function foldCommandEvents(commandId: string, events: readonly CommandEvent[]): CommandStatus | null {
  const distinct = new Map<string, CommandEvent>();
  for (const event of events) if (event.commandId === commandId) distinct.set(eventIdentity(event), distinct.get(eventIdentity(event)) ?? event);
  if (distinct.size === 0) return null;
  const all = [...distinct.values()].sort(byTime);
  // Only events about the command's own device count: a device answering another device's command id
  // (gateways write `result` with the answering device's id) is listed as an anomaly, never believed.
  const owner = all.find((event) => event.type === 'accepted' && event.command !== undefined)?.command?.deviceId ?? all[0]!.deviceId;
  const ordered = all.filter((event) => event.deviceId === owner);

  const steps: Partial<Record<CommandEventType, CommandStep>> = {};
  const gatewayIds = new Set<string>();
  for (const event of ordered) {
    const step = steps[event.type];
    if (step) {
      step.lastAtMs = event.atMs;
      step.count += 1;
    } else {
      steps[event.type] = { firstAtMs: event.atMs, lastAtMs: event.atMs, count: 1 };
    }
    if (event.gatewayId !== undefined) gatewayIds.add(event.gatewayId);
  }

  const first = (type: CommandEventType): CommandEvent | undefined => ordered.find((event) => event.type === type);
  const accepted = ordered.find((event) => event.type === 'accepted' && event.command !== undefined);
  const resultEvent = first('result');
  const outcome = resultEvent ?? ordered.find((event) => event.type === 'expired' || event.type === 'failed');
  const progress: ProgressStep = steps.delivered || resultEvent ? 'delivered' : steps.queued ? 'queued' : 'accepted';
  const state: CommandState = outcome?.type ?? progress;

  return {
    commandId,
    deviceId: owner,
    command: accepted?.command ?? null,
    state,
    terminal: outcome !== undefined,
    steps,
    deliveryCount: steps.delivered?.count ?? 0,
    result: resultEvent ? { status: resultEvent.status ?? 'failure', atMs: resultEvent.atMs, payload: resultEvent.result ?? null } : null,
    reason: outcome && outcome.type !== 'result' ? (outcome.reason ?? null) : null,
    detail: outcome && outcome.type !== 'result' ? (outcome.detail ?? null) : null,
    gatewayIds: [...gatewayIds].sort(),
    events: ordered,
    anomalies: anomaliesOf(all, steps, resultEvent),
  };
}

function anomaliesOf(ordered: readonly CommandEvent[], steps: Partial<Record<CommandEventType, CommandStep>>, resultEvent: CommandEvent | undefined): string[] {
  const anomalies: string[] = [];
  const expired = steps.expired;
  if (expired && steps.delivered && steps.delivered.lastAtMs > expired.firstAtMs) {
    anomalies.push(`delivered at ${iso(steps.delivered.lastAtMs)}, after it expired at ${iso(expired.firstAtMs)}`);
  }
  const outcomes = (['result', 'expired', 'failed'] as const).filter((type) => steps[type] !== undefined);
  if (outcomes.length > 1) anomalies.push(`more than one outcome: ${outcomes.join(', ')}`);
  const statuses = new Set(ordered.filter((event) => event.type === 'result').map((event) => event.status));
  if (statuses.size > 1) anomalies.push('the device answered both success and failure');
  if (resultEvent && resultEvent.status === undefined) anomalies.push('a result event without a status (counted as failure)');
  const deviceIds = new Set(ordered.map((event) => event.deviceId));
  if (deviceIds.size > 1) anomalies.push(`events name more than one device (only the command's own count): ${[...deviceIds].sort().join(', ')}`);
  return anomalies;
}

/**
 * Whether `status` reached `target`: `reached`; `pending` (may still happen); or `unreachable`
 * (the command ended another way, e.g. it expired while `result` was awaited).
 */
export function commandReached(status: CommandStatus | null, target: CommandWaitTarget): 'reached' | 'pending' | 'unreachable' {
  if (status === null) return 'pending';
  if (target === 'terminal') return status.terminal ? 'reached' : 'pending';
  const isStep = (progressSteps as readonly string[]).includes(target);
  if (isStep ? status.steps[target] !== undefined || furtherThan(status, target as ProgressStep) : status.state === target) return 'reached';
  return status.terminal ? 'unreachable' : 'pending';
}

/** A later step was seen, so `step` happened even if its own event was not read (yet). */
function furtherThan(status: CommandStatus, step: ProgressStep): boolean {
  const later = progressSteps.slice(progressSteps.indexOf(step) + 1);
  return later.some((type) => status.steps[type] !== undefined) || status.result !== null;
}
