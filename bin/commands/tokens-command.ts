/**
 * `tributary tokens create|list|revoke`: the API's bearer tokens, on the compacted tokens topic
 * every API replica follows. A token is printed once, at creation; only the SHA-256 of its
 * secret is stored (docs/adr/0015-api-tokens.md). Revoking keeps the record, marked revoked,
 * and takes effect on every replica as soon as it follows the record.
 */
import { createTokenStore, type TokenStore } from '../../api/token-store.ts';
import { encodeTokenRecord, isValidTokenId, issueToken, parseScopes, type ApiTokenRecord } from '../../api/api-token.ts';
import type { KafkaClientFactory, KafkaProducerPort } from '../../core/kafka-port.ts';
import { createLogger } from '../../core/logger.ts';
import { readSettings, settingsHelp, type SettingValues } from '../../core/settings.ts';
import { topicSpecs } from '../../core/topic-specs.ts';
import { createKafkaClientFactory } from '../../kafka/kafka-client-factory.ts';
import { parseCommandArgs, UsageError } from '../cli-args.ts';
import { commandSettings, createProcessEnvReader } from '../settings-catalog.ts';

const clientId = 'tributary-tokens';

const help = `Usage: tributary tokens <command> [options]

Commands:
  create --name <name> --scopes <scopes> [--json]
                 a new token for the API; printed once (only its hash is stored). Scopes,
                 comma-separated: read (GET routes), operate (read + writes: devices,
                 commands, jobs), admin (everything). --json prints {id, name, scopes, token}.
  list [--json]  every token: id, name, scopes, created, revoked (never a secret or hash)
  revoke <id>    refuse the token from now on, on every API replica

Use a token as: curl -H "Authorization: Bearer <token>" http://127.0.0.1:8080/v1/devices

${settingsHelp(commandSettings.tokens)}`;

type Settings = SettingValues<typeof commandSettings.tokens>;

export async function tokensCommand(args: readonly string[]): Promise<number> {
  const parsed = parseCommandArgs(args, { name: { type: 'string' }, scopes: { type: 'string' }, json: { type: 'boolean', default: false } }, help);
  if (!parsed) return 0;
  const [action, ...rest] = parsed.positionals;
  const { values } = parsed;
  switch (action) {
    case 'create': {
      if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
      if (values.name === undefined) throw new UsageError('tokens create needs --name <name> (who or what uses the token)');
      const scopes = parseScopes(values.scopes ?? '');
      if (!scopes.ok) throw new UsageError(`--scopes: ${scopes.detail ?? scopes.reason}`);
      // checked before any connection: a bad name costs nothing
      const issued = issueToken({ name: values.name, scopes: scopes.value, nowMs: Date.now() });
      if (!issued.ok) throw new UsageError(`the token is not valid: ${issued.detail ?? issued.reason}`);
      return withTokens({ reads: false, writes: true }, async ({ producer, topic }) => {
        await write(producer, topic, issued.value.record);
        const { id, name, scopes: granted } = issued.value.record;
        process.stdout.write(
          values.json
            ? `${JSON.stringify({ id, name, scopes: granted, token: issued.value.token }, null, 2)}\n`
            : `created token ${id} (${name}; scopes ${granted.join(', ')})\ntoken (shown once): ${issued.value.token}\n`,
        );
        return 0;
      });
    }
    case 'list':
      if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
      return withTokens({ reads: true, writes: false }, ({ store }) => {
        const tokens = store.all().map(({ hash: _hidden, ...visible }) => visible);
        if (values.json) {
          process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
        } else {
          for (const token of tokens) {
            const state = token.revokedAtMs === null ? 'active ' : `REVOKED ${new Date(token.revokedAtMs).toISOString()}`;
            process.stdout.write(`${token.id}  ${state}  created ${new Date(token.createdAtMs).toISOString()}  scopes ${token.scopes.join(',').padEnd(18)}  ${token.name}\n`);
          }
          process.stdout.write(`${tokens.length} token(s)\n`);
        }
        return 0;
      });
    case 'revoke': {
      const [id = '', ...extra] = rest;
      if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
      if (!isValidTokenId(id)) throw new UsageError(`a token id (16 hex digits, see tokens list) is required, got ${JSON.stringify(id)}`);
      return withTokens({ reads: true, writes: true }, async ({ store, producer, topic }) => {
        const record = store.get(id);
        if (!record) throw new UsageError(`no token ${id} (see tributary tokens list)`);
        if (record.revokedAtMs !== null) {
          process.stdout.write(`token ${id} was revoked already, at ${new Date(record.revokedAtMs).toISOString()}\n`);
          return 0;
        }
        await write(producer, topic, { ...record, revokedAtMs: Math.max(Date.now(), record.createdAtMs) });
        process.stdout.write(`revoked token ${id} (${record.name})\n`);
        return 0;
      });
    }
    case undefined:
      throw new UsageError(help);
    default:
      throw new UsageError(`unknown tokens command ${JSON.stringify(action)}\n\n${help}`);
  }
}

async function write(producer: KafkaProducerPort | null, topic: string, record: ApiTokenRecord): Promise<void> {
  if (!producer) throw new Error('tokens: a write without a producer');
  // acks=all: the product producer resolves once every in-sync replica has the record
  await producer.send({ topic, key: record.id, value: encodeTokenRecord(record), headers: {} });
}

interface TokenTools {
  store: TokenStore;
  producer: KafkaProducerPort | null;
  topic: string;
}

/** Creates the tokens topic the first time; reads it to its end when the action reads, with a producer when it writes. */
async function withTokens(options: { reads: boolean; writes: boolean }, run: (tools: TokenTools) => Promise<number> | number): Promise<number> {
  const env = createProcessEnvReader();
  const settings: Settings = readSettings(env, commandSettings.tokens);
  env.finish();
  const logger = createLogger({ level: settings.logLevel, name: clientId, to: 'stderr' });
  const kafka: KafkaClientFactory = createKafkaClientFactory({ brokers: settings.kafkaBrokers, logger });
  const topic = settings.apiTokens;
  const admin = kafka.admin({ clientId });
  try {
    await admin.ensureTopics(topicSpecs({ apiTokens: topic }, { partitions: 1, replicationFactor: settings.replicationFactor }));
  } finally {
    await admin.close();
  }
  const store = createTokenStore({ follower: kafka.follower({ clientId, topic }), logger });
  const producer = options.writes ? kafka.producer({ clientId, sendTimeoutMs: 15_000, lingerMs: 0, maxBatchRecords: 1, compression: 'none' }) : null;
  try {
    await Promise.all([options.reads ? store.start() : undefined, producer?.start()]);
    return await run({ store, producer, topic });
  } finally {
    await Promise.allSettled([options.reads ? store.stop() : undefined, producer?.stop()]);
  }
}
