import { describe, expect, it } from 'vitest';
import { createEnvReader } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { readGatewaySettings } from './gateway-command.ts';

function problemsOf(env: Record<string, string>): string[] {
  const reader = createEnvReader(env);
  readGatewaySettings(reader);
  try {
    reader.finish();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('readGatewaySettings', () => {
  it('maps the default rules under the configured topic prefix', () => {
    const reader = createEnvReader({ TRIBUTARY_MQTT_TOPIC_PREFIX: 'acme/devices', TRIBUTARY_TOPIC_TELEMETRY: 't', TRIBUTARY_TOPIC_EVENTS: 'e' });
    const settings = readGatewaySettings(reader);
    reader.finish();
    expect(settings.ingest.mappingRules).toEqual([
      { filter: 'acme/devices/+/telemetry', kafkaTopic: 't' },
      { filter: 'acme/devices/+/events', kafkaTopic: 'e' },
    ]);
  });

  it('keeps explicit mapping rules as given', () => {
    const reader = createEnvReader({ TRIBUTARY_MQTT_TOPIC_PREFIX: 'acme', TRIBUTARY_MAPPING_RULES: 'devices/+/telemetry=x' });
    expect(readGatewaySettings(reader).ingest.mappingRules).toEqual([{ filter: 'devices/+/telemetry', kafkaTopic: 'x' }]);
  });

  it('has one shutdown deadline default, above the drain', () => {
    const reader = createEnvReader({});
    const settings = readGatewaySettings(reader);
    reader.finish();
    expect(settings.shutdownDeadlineMs).toBe(25_000);
    expect(settings.gateway.shutdownDrainMs).toBeLessThan(settings.shutdownDeadlineMs);
  });

  it('refuses a send timeout a device would not wait for, when a keepalive limit is set', () => {
    expect(problemsOf({ TRIBUTARY_MQTT_KEEPALIVE_LIMIT_S: '60' })).toEqual([]);
    expect(problemsOf({ TRIBUTARY_MQTT_KEEPALIVE_LIMIT_S: '10' })).toEqual([expect.stringMatching(/TRIBUTARY_KAFKA_SEND_TIMEOUT_MS \(10000\) must be below TRIBUTARY_MQTT_KEEPALIVE_LIMIT_S \(10 s\)/)]);
    expect(problemsOf({ TRIBUTARY_MQTT_KEEPALIVE_LIMIT_S: '10', TRIBUTARY_KAFKA_SEND_TIMEOUT_MS: '5000' })).toEqual([]);
  });

  it('refuses a drain that does not fit in the shutdown deadline', () => {
    expect(problemsOf({ TRIBUTARY_GATEWAY_SHUTDOWN_DRAIN_MS: '20000', TRIBUTARY_SHUTDOWN_DEADLINE_MS: '20000' })).toEqual([
      expect.stringMatching(/TRIBUTARY_GATEWAY_SHUTDOWN_DRAIN_MS \(20000\) must be below TRIBUTARY_SHUTDOWN_DEADLINE_MS \(20000\)/),
    ]);
  });

  it('refuses brokers that are not a host:port list', () => {
    expect(problemsOf({ TRIBUTARY_KAFKA_BROKERS: 'kafka-0,kafka-1:9092' })).toEqual([expect.stringMatching(/^TRIBUTARY_KAFKA_BROKERS=.*not host:port: kafka-0/)]);
  });
});
