/**
 * The whole pipeline as an operator and a device meet it: a device registered with `tributary
 * devices add` (site, model, a unit), the gateway and an enricher composed as the product composes
 * them, QoS 1 publishes from mosquitto_pub, and the reading in QuestDB enriched from the registry.
 * A message the enricher refuses goes to the dead-letter topic and does not hold back the good one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { deadLetterHeaders, recordHeaders } from '../core/envelope.ts';
import { createCleanups } from './cleanups.ts';
import { startEnrichHarness } from './enrich-harness.ts';
import { startGatewayHarness } from './gateway-harness.ts';
import { eventually } from './helpers.ts';

const run = promisify(execFile);
const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

describe('MQTT → gateway → Kafka → enricher → QuestDB', () => {
  it('stores a mosquitto_pub reading converted to the canonical unit, with site and model from the registry, and dead-letters a refused one', async () => {
    const enrich = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 2 });
    cleanups.add(() => enrich.close());
    // The gateway produces to the topics the enricher consumes and follows the same registry.
    const gateway = await startGatewayHarness({
      brokers,
      env: enrich.topicEnv,
    });
    cleanups.add(() => gateway.close());
    const deviceId = 'boiler-7';
    const secret = 'boiler-7-secret';

    const added = enrich.spawnCli(['devices', 'add', deviceId, '--secret', secret, '--site', 'plant-north', '--model', 'TH-20', '--unit', 'temperature=degF']);
    expect(await added.exited, added.output()).toEqual({ code: 0, signal: null });
    expect(added.stdout()).toBe(`added device ${deviceId}\n`);
    await enrich.startEnricher();
    // The gateway follows the registry live: wait until it accepts the new device.
    await eventually(
      () => gateway.connect(deviceId, secret).then((client) => client.endAsync().then(() => true), () => false),
      (accepted) => accepted,
      20_000,
      'device accepted by the gateway',
    );

    const port = new URL(gateway.mqttUrl).port;
    const topic = `devices/${deviceId}/telemetry`;
    const publish = (payload: string): Promise<unknown> =>
      run('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-i', deviceId, '-u', deviceId, '-P', secret, '-q', '1', '-t', topic, '-m', payload]);
    const refused = '{"v":1,"ts":';
    const ts = Date.now();
    // Published first, on the same partition: the bad record must not hold back the good one.
    await publish(refused);
    await publish(JSON.stringify({ v: 1, ts, seq: 1, metrics: { temperature: 212 } }));
    // mosquitto_pub exits after its PUBACK, which the gateway sends only once Kafka has the record.
    expect(await gateway.recordCount(enrich.topics.telemetry)).toBe(2);

    const rows = await eventually(
      () => enrich.query(`select device, site, model, metric, value, unit, seq, ts_source, ts from '${enrich.tables.readings}'`),
      (found) => found.length > 0,
      30_000,
      'the reading stored',
    );
    // 212 degF from the registry's unit = 100 degC, the canonical temperature unit.
    expect(rows).toEqual([[deviceId, 'plant-north', 'TH-20', 'temperature', 100, 'degC', 1, 'device', new Date(ts).toISOString().replace('Z', '000Z')]]);

    const [deadLetter] = await enrich.readTopic(enrich.topics.deadLetter, 1);
    expect(deadLetter?.key).toBe(deviceId);
    expect(deadLetter?.value?.toString()).toBe(refused);
    expect(deadLetter?.headers).toMatchObject({
      [deadLetterHeaders.errorReason]: 'invalid_json',
      [deadLetterHeaders.sourceTopic]: enrich.topics.telemetry,
      [deadLetterHeaders.consumerGroup]: enrich.env().TRIBUTARY_ENRICH_GROUP,
      [recordHeaders.mqttTopic]: topic,
    });
    await eventually(() => enrich.committedEverything(enrich.env().TRIBUTARY_ENRICH_GROUP!), (done) => done, 15_000, 'both records committed');
    expect(await gateway.recordCount(enrich.topics.deadLetter)).toBe(1);
  });
});
