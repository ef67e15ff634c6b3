/**
 * Commands to devices over HTTP, as `tributary commands` sends and follows them: POST writes the
 * command and its accepted event to Kafka (acks=all) and answers 202 with the status URL; GET folds
 * the command's events into its status (core/command-status.ts), from any replica.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildDeviceCommand, commandTtlBounds, maxCommandParamsBytes, type CommandRequest } from '../core/device-command.ts';
import type { DeviceRegistry } from '../core/device-registry.ts';
import { formatDuration } from '../core/duration.ts';
import type { Logger } from '../core/logger.ts';
import { CommandSubmitError, type CommandLog } from '../kafka/command-log.ts';
import type { RouteModule } from './api-routes.ts';
import { problem } from './problem.ts';

const levelPattern = '^[A-Za-z0-9_.-]{1,64}$';
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: levelPattern } } } as const;

interface CommandBody {
  name: string;
  params: Record<string, unknown>;
  ttl: string;
  qos: 0 | 1;
  correlationId?: string;
}

const commandSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'the command as written to the commands topic',
  properties: { commandId: { type: 'string' }, deviceId: { type: 'string' }, name: { type: 'string' }, params: { type: 'object', additionalProperties: true }, qos: { type: 'integer' }, issuedAtMs: { type: 'integer' }, expiresAtMs: { type: 'integer' }, correlationId: { type: 'string' } },
} as const;

/** A command's status: state, steps, deliveries, result, anomalies (core/command-status.ts). */
const statusSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['commandId', 'state', 'terminal'],
  properties: {
    commandId: { type: 'string' },
    deviceId: { type: ['string', 'null'] },
    state: { type: 'string', enum: ['accepted', 'queued', 'delivered', 'result', 'expired', 'failed'] },
    terminal: { type: 'boolean' },
    command: { anyOf: [commandSchema, { type: 'null' }] },
    deliveryCount: { type: 'integer' },
    result: { type: ['object', 'null'], additionalProperties: true },
    reason: { type: ['string', 'null'] },
    detail: { type: ['string', 'null'] },
  },
} as const;

/** The command routes over a started registry and a command log with a started producer. */
export function commandRoutes(deps: { registry: DeviceRegistry; log: CommandLog; logger: Logger }): RouteModule {
  const { registry, log } = deps;
  const logger = deps.logger.child({ component: 'command-routes' });
  return (app: FastifyInstance) => {
    app.post<{ Params: { id: string }; Body: CommandBody }>(
      '/devices/:id/commands',
      {
        config: { scope: 'operate' },
        schema: {
          summary: 'Send a command to a registered, enabled device',
          description: 'Answered 202 once the command and its accepted event are on Kafka (acks=all); follow it at the status URL (Location).',
          tags: ['commands'],
          params: idParams,
          body: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', pattern: levelPattern, description: 'delivered on <prefix>/<device>/commands/<name>' },
              params: { type: 'object', default: {}, description: `a JSON object, at most ${maxCommandParamsBytes} bytes` },
              ttl: { type: 'string', default: '1h', description: `how long the command may wait for the device: 30s, 10m, 2h, 1d (${formatDuration(commandTtlBounds.minMs)}..${formatDuration(commandTtlBounds.maxMs)})` },
              qos: { type: 'integer', enum: [0, 1], default: 1 },
              correlationId: { type: 'string', minLength: 1, maxLength: 128, description: 'your own reference, passed to the device and kept in the events' },
            },
          },
          response: {
            202: { type: 'object', required: ['commandId', 'statusUrl'], properties: { commandId: { type: 'string' }, statusUrl: { type: 'string' }, command: commandSchema } },
          },
        },
      },
      async (request, reply) => {
        const deviceId = request.params.id;
        const { name, params, ttl, qos, correlationId } = request.body;
        const commandRequest: CommandRequest = { deviceId, name, params, qos, ttl, ...(correlationId !== undefined && { correlationId }) };
        const built = buildDeviceCommand(commandRequest, { commandId: randomUUID(), nowMs: Date.now() });
        if (!built.ok) {
          const problems = built.problems.map(({ field, detail }) => ({ pointer: field === null ? '/body' : field === 'deviceId' ? '/params/id' : `/body/${field}`, detail }));
          throw problem({ status: 400, kind: 'invalid_request', title: 'The request is not valid', detail: `${problems.length} problem(s) found; see problems`, problems });
        }
        const device = registry.get(deviceId);
        if (!device) throw problem({ status: 404, kind: 'unknown_device', title: 'Unknown device', detail: `no device ${JSON.stringify(deviceId)} in the registry` });
        // a disabled device cannot connect: the command could only expire
        if (!device.enabled) throw problem({ status: 409, kind: 'device_disabled', title: 'The device is disabled', detail: `device ${deviceId} is disabled; enable it first` });
        const command = built.value;
        try {
          await log.submit(command);
        } catch (error) {
          if (!(error instanceof CommandSubmitError) || error.stage === 'command') {
            throw problem({
              status: 503,
              kind: 'kafka_unavailable',
              title: 'The command could not be written',
              detail: 'Kafka did not acknowledge the command; it may or may not have been written. Its status URL tells.',
              headers: { 'retry-after': '5' },
              extensions: { commandId: command.commandId },
            });
          }
          // The command is on its topic and will be delivered: accepted, though its accepted event is missing.
          logger.warn({ err: error, commandId: command.commandId }, 'command written without its accepted event');
        }
        const statusUrl = `/v1/commands/${command.commandId}`;
        return reply.code(202).header('location', statusUrl).send({ commandId: command.commandId, statusUrl, command });
      },
    );

    app.get<{ Params: { id: string } }>(
      '/commands/:id',
      { config: { scope: 'read' }, schema: { summary: "A command's status and the timeline of its events", tags: ['commands'], params: idParams, response: { 200: statusSchema } } },
      async (request) => {
        const status = await log.follow(request.params.id).refresh();
        if (status === null) throw problem({ status: 404, kind: 'unknown_command', title: 'Unknown command', detail: `no event of command ${request.params.id} on the command events topic` });
        return status;
      },
    );

    app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
      '/devices/:id/commands',
      {
        config: { scope: 'read' },
        schema: {
          summary: "The device's latest commands, newest first, each with its status",
          tags: ['commands'],
          params: idParams,
          querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 } } },
          response: { 200: { type: 'object', required: ['commands'], properties: { commands: { type: 'array', items: { type: 'object', properties: { command: commandSchema, status: { anyOf: [statusSchema, { type: 'null' }] } } } } } } },
        },
      },
      async (request) => {
        if (!registry.get(request.params.id)) throw problem({ status: 404, kind: 'unknown_device', title: 'Unknown device', detail: `no device ${JSON.stringify(request.params.id)} in the registry` });
        return { commands: await log.deviceCommands(request.params.id, request.query.limit) };
      },
    );
  };
}
