/**
 * `tributary devices add|import|list|show|disable|enable|rotate|remove`: manages the device registry, the
 * compacted Kafka topic every gateway and enricher follows. Changes take effect live, within seconds.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { createDeviceRegistry, type DeviceRegistry } from '../../core/device-registry.ts';
import { createDeviceOperations, prepareSecret, type DeviceOperations, type DeviceOutcome, type PreparedSecret } from '../../core/device-operations.ts';
import { isValidDeviceId, minSecretChars, type DeviceRecord } from '../../core/device-record.ts';
import { createLogger } from '../../core/logger.ts';
import { readSettings, settingsHelp } from '../../core/settings.ts';
import { topicSpecs } from '../../core/topic-specs.ts';
import { createKafkaClientFactory } from '../../kafka/kafka-client-factory.ts';
import { parseCommandArgs, UsageError } from '../cli-args.ts';
import { parseDeviceImportFile } from '../device-import-file.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';

const help = `Usage: tributary devices <command> [options]

Commands:
  add <id> (--secret <s> | --generate-secret) [--site S] [--model M] [--unit metric=unit]... [--calibrate metric=scale:offset]...
                 register a device (a new secret is printed once with --generate-secret)
  import <file|-> [--update] [--partial] [--credentials <out.csv>]
                 register the devices of a CSV file (header row; columns deviceId, secret, enabled, site, model,
                 units as metric=unit;..., calibration as metric=scale:offset;...) or a JSON-lines file (one
                 object a line, same field names, units and calibration as objects); - reads stdin.
                 Every line is checked first and every bad one reported (line number and reason); nothing is
                 imported while any line is bad, unless --partial (then the good lines are). Devices that exist
                 already are refused and listed unless --update (which keeps a device's secret when its line has
                 none, and its createdAtMs). Lines without a secret get a generated one, written with the device
                 id to --credentials (created with mode 0600, never overwritten). Exits 0 only if every line was
                 imported.
  list [--json]  list registered devices (secrets are never shown; only their hashes are stored)
  show <id>      one device as JSON (without its secret hash)
  disable <id>   refuse the device's connections and close its live session
  enable <id>    allow the device again
  rotate <id> (--secret <s> | --generate-secret)
                 replace the device's secret; its live session is closed
  remove <id>    delete the device (a tombstone in the compacted topic)

${settingsHelp(commandSettings.devices)}`;

function parsePairs(values: readonly string[], flag: string): Array<[string, string]> {
  return values.map((item) => {
    const index = item.indexOf('=');
    if (index <= 0 || index === item.length - 1) throw new UsageError(`--${flag} expects name=value, got ${JSON.stringify(item)}`);
    return [item.slice(0, index), item.slice(index + 1)];
  });
}

function parseCalibrations(values: readonly string[]): Record<string, { scale: number; offset: number }> {
  return Object.fromEntries(
    parsePairs(values, 'calibrate').map(([metric, spec]) => {
      const [scale, offset = '0'] = spec.split(':');
      const parsed = { scale: Number(scale), offset: Number(offset) };
      if (!Number.isFinite(parsed.scale) || !Number.isFinite(parsed.offset) || parsed.scale === 0) {
        throw new UsageError(`--calibrate ${metric}=${spec}: expected scale:offset numbers, scale not 0`);
      }
      return [metric, parsed];
    }),
  );
}

function withoutSecret(device: DeviceRecord): Omit<DeviceRecord, 'secretHash'> {
  const { secretHash: _hidden, ...visible } = device;
  return visible;
}

export async function devicesCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(
    args,
    {
      secret: { type: 'string' },
      'generate-secret': { type: 'boolean', default: false },
      site: { type: 'string' },
      model: { type: 'string' },
      unit: { type: 'string', multiple: true, default: [] },
      calibrate: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
      update: { type: 'boolean', default: false },
      partial: { type: 'boolean', default: false },
      credentials: { type: 'string' },
    },
    help,
  );
  if (!parsed) return 0;
  const [action, deviceId, ...extra] = parsed.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (action === undefined) throw new UsageError(help);
  if (action === 'import' && deviceId === undefined) throw new UsageError('devices import needs a file (or - for stdin)');
  if (action !== 'list' && action !== 'import' && !isValidDeviceId(deviceId)) throw new UsageError(`a device id (1-64 of A-Z a-z 0-9 _ . -) is required, got ${JSON.stringify(deviceId ?? '')}`);
  const { credentials } = parsed.values;
  if (credentials !== undefined && existsSync(credentials)) throw new UsageError(`--credentials ${credentials} exists already; it is never overwritten`);
  // checked before any Kafka connection: a bad file costs nothing
  const importFile = action === 'import' ? parseDeviceImportFile(await readImportText(deviceId ?? '-')) : null;
  // the secret is hashed (on the thread pool) while the registry is read and the producer connects
  const newHash = action === 'add' || action === 'rotate' ? newSecret(parsed.values) : null;

  const env = createProcessEnvReader();
  const settings = readSettings(env, commandSettings.devices);
  env.finish();
  const { kafkaBrokers, devices: devicesTopic, replicationFactor, logLevel } = settings;
  const logger = createLogger({ level: logLevel, name: 'tributary-devices', to: 'stderr' });
  const kafka = createKafkaClientFactory({ brokers: kafkaBrokers, logger });
  const admin = kafka.admin({ clientId: 'tributary-devices' });
  await admin.ensureTopics(topicSpecs({ devices: devicesTopic }, { partitions: 1, replicationFactor }));
  await admin.close();
  const registry = createDeviceRegistry({ follower: kafka.follower({ clientId: 'tributary-devices', topic: devicesTopic }), logger });
  const writes = action !== 'list' && action !== 'show';
  // one producer for the whole command; a batch of up to 500 records per request for imports
  const producer = writes ? kafka.producer({ clientId: 'tributary-devices', sendTimeoutMs: 15_000, lingerMs: 0, maxBatchRecords: 500, compression: 'none' }) : null;
  try {
    await Promise.all([registry.start(), producer?.start()]);
    if (importFile && producer) {
      const { importDevices } = await import('./devices-import.ts');
      const out = (text: string): void => void process.stdout.write(text);
      return await importDevices({ ...importFile, fileProblems: importFile.problems, update: parsed.values.update, partial: parsed.values.partial, credentialsPath: credentials ?? null, registry, producer, topic: devicesTopic, out });
    }
    const operations = producer ? createDeviceOperations({ registry, producer, topic: devicesTopic }) : null;
    return await runAction(action, deviceId ?? '', parsed.values, registry, operations, newHash);
  } finally {
    await Promise.allSettled([registry.stop(), producer?.stop()]);
  }
}

async function readImportText(file: string): Promise<string> {
  try {
    return file === '-' ? await text(process.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file === '-' ? 'stdin' : file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function newSecret(values: { secret?: string; 'generate-secret': boolean }): PreparedSecret {
  if (values['generate-secret'] && values.secret !== undefined) throw new UsageError('give either --secret or --generate-secret');
  const generated = values['generate-secret'];
  if (!generated && (values.secret === undefined || values.secret.length < minSecretChars)) {
    throw new UsageError(`--secret of at least ${minSecretChars} characters, or --generate-secret, is required`);
  }
  return prepareSecret(generated ? undefined : values.secret);
}

/** The written device, or a usage error saying why the registry refused the operation. */
function written<T>(outcome: DeviceOutcome<T>): T {
  if (!outcome.ok) throw new UsageError(outcome.reason === 'device_exists' ? `${outcome.detail} (use rotate, enable or remove)` : outcome.detail);
  return outcome;
}

async function runAction(
  action: string,
  deviceId: string,
  values: { site?: string; model?: string; unit: string[]; calibrate: string[]; json: boolean },
  registry: DeviceRegistry,
  operations: DeviceOperations | null,
  newHash: PreparedSecret | null,
): Promise<number> {
  const writes = (): DeviceOperations => {
    if (!operations) throw new Error(`devices ${action} writes without a producer`);
    return operations;
  };
  const takeSecret = (): PreparedSecret => {
    if (!newHash) throw new Error(`devices ${action} has no new secret`);
    return newHash;
  };
  const shownOnce = (secret: string | null): string => (secret === null ? '' : `secret (shown once): ${secret}\n`);

  switch (action) {
    case 'add': {
      const fields = {
        ...(values.site !== undefined && { site: values.site }),
        ...(values.model !== undefined && { model: values.model }),
        ...(values.unit.length > 0 && { units: Object.fromEntries(parsePairs(values.unit, 'unit')) }),
        ...(values.calibrate.length > 0 && { calibration: parseCalibrations(values.calibrate) }),
      };
      const { generatedSecret } = written(await writes().add(deviceId, fields, takeSecret()));
      process.stdout.write(`added device ${deviceId}\n${shownOnce(generatedSecret)}`);
      return 0;
    }
    case 'list': {
      const devices = [...registry.all()].sort((a, b) => a.deviceId.localeCompare(b.deviceId));
      if (values.json) {
        process.stdout.write(JSON.stringify(devices.map(withoutSecret), null, 2) + '\n');
      } else {
        for (const device of devices) {
          process.stdout.write(`${device.deviceId.padEnd(24)} ${device.enabled ? 'enabled ' : 'DISABLED'} site=${device.site ?? '-'} model=${device.model ?? '-'}\n`);
        }
        process.stdout.write(`${devices.length} device(s)\n`);
      }
      return 0;
    }
    case 'show': {
      const device = registry.get(deviceId);
      if (!device) throw new UsageError(`no device ${JSON.stringify(deviceId)} in the registry`);
      process.stdout.write(JSON.stringify(withoutSecret(device), null, 2) + '\n');
      return 0;
    }
    case 'disable':
    case 'enable':
      written(await writes().setEnabled(deviceId, action === 'enable'));
      process.stdout.write(`${action}d device ${deviceId}\n`);
      return 0;
    case 'rotate': {
      const { generatedSecret } = written(await writes().rotate(deviceId, takeSecret()));
      process.stdout.write(`rotated the secret of ${deviceId}\n${shownOnce(generatedSecret)}`);
      return 0;
    }
    case 'remove':
      written(await writes().remove(deviceId));
      process.stdout.write(`removed device ${deviceId}\n`);
      return 0;
    default:
      throw new UsageError(`unknown devices command ${JSON.stringify(action)}\n\n${help}`);
  }
}
