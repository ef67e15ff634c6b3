import { describe, expect, it } from 'vitest';
import { readingsTableName, validateTablePrefix } from '../core/questdb-tables.ts';
import { pipelineEnv, runNames, runTopicsEnv } from './run-names.ts';

describe('run names and pipeline environment', () => {
  const names = runNames('mwri1abc12');

  it('gives each run its own topics, group and a valid table prefix the enricher turns into the table name', () => {
    expect(names.telemetryTopic).toBe('bench.mwri1abc12.telemetry');
    expect(validateTablePrefix(names.tablePrefix).ok).toBe(true);
    expect(readingsTableName(names.tablePrefix)).toBe(names.table);
    const topics = Object.values(runTopicsEnv(names));
    expect(new Set(topics).size).toBe(5);
    // The prefix the run's clean-up deletes by: it covers every topic the run makes, and only its own.
    for (const topic of topics) expect(topic.startsWith(names.topicPrefix), topic).toBe(true);
    expect(runNames('mwri1abc1').telemetryTopic.startsWith(names.topicPrefix)).toBe(false);
  });

  it('points both children at the same topics and lets extra settings win', () => {
    const env = pipelineEnv(
      names,
      { kafkaBrokers: ['127.0.0.1:1', '127.0.0.1:2'], replicationFactor: 2, questdbHttpUrl: 'http://127.0.0.1:9000', mqttPort: 1883, gatewayHttpPort: 9464, enrichHttpPort: 9465 },
      { gateway: { TRIBUTARY_KAFKA_LINGER_MS: '2', LOG_LEVEL: 'debug' } },
    );
    for (const key of ['TRIBUTARY_KAFKA_BROKERS', 'TRIBUTARY_KAFKA_REPLICATION_FACTOR', 'TRIBUTARY_TOPIC_TELEMETRY', 'TRIBUTARY_TOPIC_DEVICES', 'TRIBUTARY_TOPIC_DEAD_LETTER']) {
      expect(env.gateway[key], key).toBe(env.enrich[key]);
    }
    expect(env.gateway).toMatchObject({ TRIBUTARY_KAFKA_BROKERS: '127.0.0.1:1,127.0.0.1:2', TRIBUTARY_KAFKA_REPLICATION_FACTOR: '2', TRIBUTARY_MQTT_TCP_PORT: '1883', TRIBUTARY_KAFKA_LINGER_MS: '2', LOG_LEVEL: 'debug' });
    expect(env.gateway.TRIBUTARY_KAFKA_PARTITIONS).toBeUndefined();
    for (const key of ['TRIBUTARY_TOPIC_EVENTS', 'TRIBUTARY_TOPIC_ALERTS']) expect(env.gateway[key]!.startsWith(names.topicPrefix), key).toBe(true);
    expect(env.enrich).toMatchObject({ TRIBUTARY_QUESTDB_TABLE_PREFIX: names.tablePrefix, TRIBUTARY_ENRICH_GROUP: names.consumerGroup, LOG_LEVEL: 'warn' });
  });

  it('gives both children the run\'s partitions when it sets them', () => {
    const env = pipelineEnv(names, { kafkaBrokers: ['127.0.0.1:1'], replicationFactor: 1, partitions: 4, questdbHttpUrl: '', mqttPort: 1, gatewayHttpPort: 2, enrichHttpPort: 3 });
    expect([env.gateway.TRIBUTARY_KAFKA_PARTITIONS, env.enrich.TRIBUTARY_KAFKA_PARTITIONS]).toEqual(['4', '4']);
  });
});
