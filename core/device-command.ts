/**
 * Commands to devices and the events that follow each one. A command is a JSON record on
 * `iot.commands` keyed by device id; the gateway delivers it to `<prefix>/<device id>/commands/<name>`
 * and every step it takes is a JSON record on `iot.command-events` keyed by command id:
 *
 *   accepted (the submitter, once the command is on Kafka) → queued (a gateway handed it to the
 *   device's MQTT session) → delivered (the device's PUBACK; QoS 0: written to the socket)
 *   → result (the device's answer on `<prefix>/<device id>/command-results`)
 *
 * or `expired` (not delivered before its expiry) or `failed` (invalid, no session to hold it, ...).
 * A device dedupes by `commandId`: delivery is at least once. Pure: no I/O.
 */
import { z } from 'zod';

import { isValidDeviceId } from './device-record.ts';
import { describeIssues, parseJsonRecord } from './json-record.ts';
import { parseDuration, type DurationBounds } from './duration.ts';
import type { Result } from './result.ts';

/** The wire version written in `v`; a reader refuses versions it does not know. */
export const commandWireVersion = 1;

/** Command ids and names are single MQTT topic levels and Kafka keys: no `/`, `+`, `#`, `$`. */
const levelPattern = /^[A-Za-z0-9_.-]{1,64}$/;
export const maxCommandParamsBytes = 16 * 1024;

const commandId = z.string().regex(levelPattern, 'must be 1..64 characters of [A-Za-z0-9_.-]');

/** Whether `id` can be a command id (1..64 characters of [A-Za-z0-9_.-]). */
export function isValidCommandId(id: unknown): id is string {
  return commandId.safeParse(id).success;
}
const deviceId = z.string().refine(isValidDeviceId, 'must be a valid device id (1..64 characters of [A-Za-z0-9_.-])');
const epochMs = z.int().nonnegative();
const params = z
  .record(z.string(), z.unknown())
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= maxCommandParamsBytes, `must encode to at most ${maxCommandParamsBytes} bytes of JSON`);

const commandSchema = z.strictObject({
  v: z.literal(commandWireVersion),
  commandId,
  deviceId,
  name: z.string().regex(levelPattern, 'must be 1..64 characters of [A-Za-z0-9_.-]'),
  params,
  qos: z.union([z.literal(0), z.literal(1)]),
  issuedAtMs: epochMs,
  expiresAtMs: epochMs,
  correlationId: z.string().min(1).max(128).optional(),
});

/** The value of an `iot.commands` record. Times are epoch milliseconds. */
export type DeviceCommand = z.infer<typeof commandSchema>;

export const commandEventTypes = ['accepted', 'queued', 'delivered', 'result', 'expired', 'failed'] as const;
export type CommandEventType = (typeof commandEventTypes)[number];

const eventSchema = z.strictObject({
  v: z.literal(commandWireVersion),
  type: z.enum(commandEventTypes),
  commandId,
  deviceId,
  atMs: epochMs,
  /** The gateway that took the step (queued, delivered, result, expired by a gateway). */
  gatewayId: z.string().min(1).max(256).optional(),
  /** accepted: the command as submitted. */
  command: commandSchema.optional(),
  /** result: what the device reported. */
  status: z.enum(['success', 'failure']).optional(),
  /** result: the device's whole answer, as JSON. */
  result: z.unknown().optional(),
  /** failed / expired: a stable code, e.g. `no_session`, `invalid_command`, `expired_before_delivery`. */
  reason: z.string().min(1).max(256).optional(),
  detail: z.string().max(1024).optional(),
});

/** The value of an `iot.command-events` record. */
export type CommandEvent = z.infer<typeof eventSchema>;

/** What the device sends on its results topic: `commandId`, `status`, anything else it wants to report. */
const resultSchema = z.looseObject({ commandId, status: z.enum(['success', 'failure']) });
export type CommandResult = z.infer<typeof resultSchema>;

/** Checks a command before it is produced or after it is consumed; every problem in `detail`. */
export function validateDeviceCommand(value: unknown): Result<DeviceCommand> {
  const checked = commandSchema.safeParse(value);
  if (!checked.success) return { ok: false, reason: 'invalid', detail: describeIssues(checked.error, 'command') };
  if (checked.data.expiresAtMs <= checked.data.issuedAtMs) return { ok: false, reason: 'invalid', detail: 'expiresAtMs must be after issuedAtMs' };
  return { ok: true, value: checked.data };
}

/** A command lives at least a second (less cannot cross Kafka and a gateway) and at most 30 days. */
export const commandTtlBounds: DurationBounds = { minMs: 1000, maxMs: 30 * 86_400_000 };

/** What a submitter asks for (the CLI's arguments, the API's body), before it is a command. */
export interface CommandRequest {
  deviceId: string;
  name: string;
  params: unknown;
  qos: number;
  /** A duration, e.g. `30s`, `10m`, `1h` (commandTtlBounds). */
  ttl: string;
  correlationId?: string;
}

/** One problem of a command request: the request field it is about (null: the command as a whole) and what is wrong. */
export interface CommandRequestProblem {
  field: keyof CommandRequest | null;
  detail: string;
}

const requestFields: ReadonlyArray<keyof CommandRequest> = ['deviceId', 'name', 'params', 'qos', 'ttl', 'correlationId'];

/**
 * The command a submitter writes for `request` (id `commandId`, issued at `nowMs`, expiring after
 * its ttl), or every problem of the request, each naming its field. Shared by `tributary commands
 * send` and the API, so both refuse the same commands the same way.
 */
export function buildDeviceCommand(request: CommandRequest, options: { commandId: string; nowMs: number }): { ok: true; value: DeviceCommand } | { ok: false; problems: CommandRequestProblem[] } {
  const problems: CommandRequestProblem[] = [];
  const ttl = parseDuration(request.ttl, commandTtlBounds);
  if (!ttl.ok) problems.push({ field: 'ttl', detail: ttl.detail ?? ttl.reason });
  const checked = commandSchema.safeParse({
    v: commandWireVersion,
    commandId: options.commandId,
    deviceId: request.deviceId,
    name: request.name,
    params: request.params,
    qos: request.qos,
    issuedAtMs: options.nowMs,
    expiresAtMs: options.nowMs + (ttl.ok ? ttl.value : commandTtlBounds.minMs),
    ...(request.correlationId !== undefined && { correlationId: request.correlationId }),
  });
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const field = requestFields.find((candidate) => candidate === issue.path[0]) ?? null;
      problems.push({ field, detail: field === 'qos' ? 'must be 0 or 1' : field === 'params' && issue.code === 'invalid_type' ? 'must be a JSON object' : issue.message });
    }
  }
  if (problems.length > 0 || !checked.success) return { ok: false, problems };
  return { ok: true, value: checked.data };
}

/** Decodes an `iot.commands` record; the key must be the command's device id. */
export function decodeDeviceCommand(key: string | null, value: Buffer | null): Result<DeviceCommand> {
  if (value === null) return { ok: false, reason: 'invalid', detail: 'command record has no value' };
  const parsed = parseJsonRecord(value, z.unknown(), 'command');
  if (!parsed.ok) return parsed;
  const checked = validateDeviceCommand(parsed.value);
  if (!checked.ok) return checked;
  if (checked.value.deviceId !== key) return { ok: false, reason: 'invalid', detail: `record key ${JSON.stringify(key)} is not the command's deviceId` };
  return checked;
}

export function encodeDeviceCommand(command: DeviceCommand): Buffer {
  return Buffer.from(JSON.stringify(command));
}

/** Decodes an `iot.command-events` record value. */
export function decodeCommandEvent(value: Buffer): Result<CommandEvent> {
  return parseJsonRecord(value, eventSchema, 'command event');
}

export function encodeCommandEvent(event: CommandEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/** What the device receives on `<prefix>/<id>/commands/<name>`: enough to act, dedupe and answer. */
export interface CommandDelivery {
  commandId: string;
  name: string;
  params: Record<string, unknown>;
  issuedAtMs: number;
  expiresAtMs: number;
  correlationId?: string;
}

export function commandDeliveryPayload(command: DeviceCommand): Buffer {
  const delivery: CommandDelivery = {
    commandId: command.commandId,
    name: command.name,
    params: command.params,
    issuedAtMs: command.issuedAtMs,
    expiresAtMs: command.expiresAtMs,
    ...(command.correlationId !== undefined && { correlationId: command.correlationId }),
  };
  return Buffer.from(JSON.stringify(delivery));
}

const deliverySchema = z.looseObject({ commandId, issuedAtMs: epochMs, expiresAtMs: epochMs });

/** The command id, issue time and expiry of a delivery payload, or null when it is not one of ours. */
export function readCommandDelivery(payload: Buffer): { commandId: string; issuedAtMs: number; expiresAtMs: number } | null {
  const parsed = parseJsonRecord(payload, deliverySchema, 'delivery');
  return parsed.ok ? { commandId: parsed.value.commandId, issuedAtMs: parsed.value.issuedAtMs, expiresAtMs: parsed.value.expiresAtMs } : null;
}

/** Decodes a device's answer on its results topic. */
export function decodeCommandResult(payload: Buffer): Result<CommandResult> {
  return parseJsonRecord(payload, resultSchema, 'command result');
}
