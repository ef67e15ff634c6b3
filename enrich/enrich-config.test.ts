import { describe, expect, it } from 'vitest';
import { createEnvReader } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { readEnrichConfig } from './enrich-config.ts';

function read(env: Record<string, string>) {
  const reader = createEnvReader(env);
  const config = readEnrichConfig(reader);
  reader.finish();
  return config;
}

describe('readEnrichConfig', () => {
  it('has working defaults', () => {
    expect(read({})).toMatchObject({
      groupId: 'tributary-enrich',
      topics: { telemetry: 'iot.telemetry', devices: 'iot.devices', deadLetter: 'iot.telemetry.dlq', alerts: 'iot.alerts' },
      questdb: { url: 'http://127.0.0.1:19000', tablePrefix: '', maxRowsPerWrite: 20_000 },
      unknownDevicePolicy: 'dead-letter',
      alertRules: [],
      httpPort: 9465,
    });
  });

  it('reads overrides, parses alert rules and normalises the QuestDB URL', () => {
    const config = read({
      TRIBUTARY_ENRICH_GROUP: 'g2',
      TRIBUTARY_TOPIC_TELEMETRY: 't.telemetry',
      TRIBUTARY_QUESTDB_URL: 'http://questdb:9000/',
      TRIBUTARY_QUESTDB_TABLE_PREFIX: 'lab_',
      TRIBUTARY_QUESTDB_MAX_ROWS_PER_WRITE: '500',
      TRIBUTARY_ENRICH_UNKNOWN_DEVICES: 'store-unknown',
      TRIBUTARY_ENRICH_ALERT_RULES: 'temperature>80, battery<10',
      TRIBUTARY_ENRICH_HTTP_PORT: '0',
    });
    expect(config).toMatchObject({ groupId: 'g2', unknownDevicePolicy: 'store-unknown', httpPort: 0 });
    expect(config.topics.telemetry).toBe('t.telemetry');
    expect(config.questdb).toMatchObject({ url: 'http://questdb:9000', tablePrefix: 'lab_', maxRowsPerWrite: 500 });
    expect(config.alertRules).toEqual([
      { metric: 'temperature', operator: '>', threshold: 80 },
      { metric: 'battery', operator: '<', threshold: 10 },
    ]);
  });

  it('lists every bad setting at once', () => {
    const reader = createEnvReader({
      TRIBUTARY_QUESTDB_URL: 'questdb:9000',
      TRIBUTARY_QUESTDB_TABLE_PREFIX: 'bad-prefix;drop',
      TRIBUTARY_ENRICH_UNKNOWN_DEVICES: 'ignore',
      TRIBUTARY_ENRICH_ALERT_RULES: 'temperature=>80',
      TRIBUTARY_ENRICH_RETRY_MIN_MS: '5000',
      TRIBUTARY_ENRICH_RETRY_MAX_MS: '100',
      TRIBUTARY_TOPIC_ALERTS: 'iot.telemetry',
    });
    readEnrichConfig(reader);
    let error: unknown;
    try {
      reader.finish();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['TRIBUTARY_QUESTDB_URL', 'TRIBUTARY_QUESTDB_TABLE_PREFIX', 'TRIBUTARY_ENRICH_UNKNOWN_DEVICES', 'TRIBUTARY_ENRICH_ALERT_RULES', 'TRIBUTARY_ENRICH_RETRY_MIN_MS', 'topics must differ']) {
      expect(problems).toContain(name);
    }
  });

  it('refuses a QuestDB URL that is not plain http://host:port', () => {
    for (const url of ['https://q:9000', 'http://q', 'http://q:9000/exec', 'http://u:p@q:9000']) {
      expect(() => read({ TRIBUTARY_QUESTDB_URL: url })).toThrow(ConfigError);
    }
  });

  it('keeps a write attempt and the longest backoff within the consumer session', () => {
    expect(read({})).toMatchObject({ questdb: { requestTimeoutMs: 5000 }, retry: { maxDelayMs: 4000 }, publishTimeoutMs: 5000 });
    expect(read({ TRIBUTARY_ENRICH_RETRY_MAX_MS: '1000' }).publishTimeoutMs).toBe(8000);
    expect(() => read({ TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS: '6000' })).toThrow(
      /TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS \(6000\) \+ TRIBUTARY_ENRICH_RETRY_MAX_MS \(4000\) must be at most 9000 ms.*session \(10000 ms/,
    );
    expect(() => read({ TRIBUTARY_QUESTDB_REQUEST_TIMEOUT_MS: '2000', TRIBUTARY_ENRICH_RETRY_MAX_MS: '7000' })).not.toThrow();
  });
});
