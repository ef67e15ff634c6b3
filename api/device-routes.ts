/**
 * The device registry over HTTP: the operations of `tributary devices` (core/device-operations.ts,
 * shared with the CLI). GETs need scope read, writes scope operate. A write answers once this
 * replica's registry shows it, so a GET that follows sees it. A secret is returned only when it was
 * generated, once; a secret hash never leaves the server (the response schemas have no such field).
 */
import type { FastifyInstance } from 'fastify';
import { prepareSecret, type DeviceFields, type DeviceOperations, type DeviceOutcome } from '../core/device-operations.ts';
import { minSecretChars, type DeviceRecord } from '../core/device-record.ts';
import type { DeviceRegistry } from '../core/device-registry.ts';
import type { RouteModule } from './api-routes.ts';
import { problem, type ProblemError } from './problem.ts';

const deviceIdSchema = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'device id: 1..64 of A-Z a-z 0-9 _ . -' } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: deviceIdSchema } } as const;
const label = { type: 'string', minLength: 1, maxLength: 256 } as const;
const secretSchema = { type: 'string', minLength: minSecretChars, maxLength: 1024, description: `at least ${minSecretChars} characters; omit it to have one generated (returned once)` } as const;
const calibrationSchema = { type: 'object', required: ['scale', 'offset'], additionalProperties: false, properties: { scale: { type: 'number' }, offset: { type: 'number' } } } as const;

/** A device as the API shows it: its record without the secret hash. */
const deviceSchema = {
  type: 'object',
  required: ['deviceId', 'enabled', 'createdAtMs', 'updatedAtMs'],
  properties: {
    deviceId: { type: 'string' },
    enabled: { type: 'boolean' },
    site: { type: 'string' },
    model: { type: 'string' },
    units: { type: 'object', additionalProperties: { type: 'string' }, description: 'metric → the unit the device reports it in' },
    calibration: { type: 'object', additionalProperties: calibrationSchema, description: 'metric → value * scale + offset' },
    createdAtMs: { type: 'integer' },
    updatedAtMs: { type: 'integer' },
  },
} as const;
const writtenSchema = {
  type: 'object',
  required: ['device'],
  properties: { device: deviceSchema, secret: { type: 'string', description: 'the generated secret, shown once' } },
} as const;

interface DeviceBody {
  secret?: string;
  site?: string;
  model?: string;
  units?: Record<string, string>;
  calibration?: Record<string, { scale: number; offset: number }>;
  enabled?: boolean;
}

type DeviceView = Omit<DeviceRecord, 'secretHash'>;

function view(device: DeviceRecord): DeviceView {
  const { secretHash: _hidden, ...visible } = device;
  return visible;
}

function unknownDevice(deviceId: string): ProblemError {
  return problem({ status: 404, kind: 'unknown_device', title: 'Unknown device', detail: `no device ${JSON.stringify(deviceId)} in the registry` });
}

/** The outcome's value, or the problem its refusal is: 404, 409, or a 400 pointing at each bad field of the body. */
function outcome<T>(result: DeviceOutcome<T>, deviceId: string): T {
  if (result.ok) return result;
  if (result.reason === 'unknown_device') throw unknownDevice(deviceId);
  if (result.reason === 'device_exists') throw problem({ status: 409, kind: 'device_exists', title: 'The device exists', detail: result.detail });
  const problems = result.issues.map((issue) => ({ pointer: `/body${issue.path.map((part) => `/${part.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')}`, detail: issue.message }));
  throw problem({ status: 400, kind: 'invalid_request', title: 'The request is not valid', detail: result.detail, problems });
}

function withSecret(device: DeviceRecord, generatedSecret: string | null): { device: DeviceView; secret?: string } {
  return { device: view(device), ...(generatedSecret !== null && { secret: generatedSecret }) };
}

/** The device routes over a started registry and the shared operations (built with awaitApplied). */
export function deviceRoutes(deps: { registry: DeviceRegistry; operations: DeviceOperations }): RouteModule {
  const { registry, operations } = deps;
  return (app: FastifyInstance) => {
    app.get<{ Querystring: { after?: string; limit: number; site?: string } }>(
      '/devices',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'List devices, by id, a page at a time',
          tags: ['devices'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { after: { ...deviceIdSchema, description: 'the last id of the previous page (its `next`)' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, site: label },
          },
          response: { 200: { type: 'object', required: ['devices', 'next'], properties: { devices: { type: 'array', items: deviceSchema }, next: { type: ['string', 'null'], description: 'pass as `after` for the next page; null on the last' } } } },
        },
      },
      (request) => {
        const { after, limit, site } = request.query;
        const matching = [...registry.all()].filter((device) => (site === undefined || device.site === site) && (after === undefined || device.deviceId > after)).sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
        const page = matching.slice(0, limit);
        return { devices: page.map(view), next: matching.length > limit ? (page.at(-1)?.deviceId ?? null) : null };
      },
    );

    app.get<{ Params: { id: string } }>(
      '/devices/:id',
      { config: { scope: 'read' }, schema: { summary: 'One device', tags: ['devices'], params: idParams, response: { 200: deviceSchema } } },
      (request) => {
        const device = registry.get(request.params.id);
        if (!device) throw unknownDevice(request.params.id);
        return view(device);
      },
    );

    app.put<{ Params: { id: string }; Body: DeviceBody }>(
      '/devices/:id',
      {
        config: { scope: 'operate' },
        schema: {
          summary: 'Create a device, or replace every field of one (its secret is kept unless given)',
          description: 'Like `tributary devices add` / `import --update`. A new device without a secret gets a generated one, returned once.',
          tags: ['devices'],
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            properties: { secret: secretSchema, site: label, model: label, units: { type: 'object', additionalProperties: { type: 'string' } }, calibration: { type: 'object', additionalProperties: calibrationSchema }, enabled: { type: 'boolean' } },
          },
          response: { 200: writtenSchema, 201: writtenSchema },
        },
      },
      async (request, reply) => {
        const { secret, ...fields } = request.body;
        const result = outcome(await operations.put(request.params.id, fields satisfies DeviceFields, secret === undefined ? null : prepareSecret(secret)), request.params.id);
        return reply.code(result.created ? 201 : 200).send(withSecret(result.device, result.generatedSecret));
      },
    );

    for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
      app.post<{ Params: { id: string } }>(
        `/devices/:id/${action}`,
        {
          config: { scope: 'operate' },
          schema: { summary: enabled ? 'Allow the device again' : "Refuse the device's connections and close its live session", tags: ['devices'], params: idParams, response: { 200: deviceSchema } },
        },
        async (request) => view(outcome(await operations.setEnabled(request.params.id, enabled), request.params.id).device),
      );
    }

    app.post<{ Params: { id: string }; Body: { secret?: string } }>(
      '/devices/:id/rotate-secret',
      {
        config: { scope: 'operate' },
        schema: {
          summary: "Replace the device's secret (a generated one is returned once); its live session is closed",
          tags: ['devices'],
          params: idParams,
          body: { type: 'object', additionalProperties: false, properties: { secret: secretSchema } },
          response: { 200: writtenSchema },
        },
      },
      async (request) => {
        const result = outcome(await operations.rotate(request.params.id, prepareSecret(request.body.secret)), request.params.id);
        return withSecret(result.device, result.generatedSecret);
      },
    );

    app.delete<{ Params: { id: string } }>(
      '/devices/:id',
      { config: { scope: 'operate' }, schema: { summary: 'Remove the device (a tombstone on the compacted devices topic)', tags: ['devices'], params: idParams, response: { 204: { type: 'null', description: 'removed' } } } },
      async (request, reply) => {
        outcome(await operations.remove(request.params.id), request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
