/**
 * The enricher against the real Kafka and QuestDB: enrichment lands, redelivery is idempotent,
 * poison records are dead-lettered without stopping the partition, a QuestDB outage loses and
 * commits nothing, and a worker killed mid-stream is replaced without loss or duplicates.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { deadLetterHeaders, recordHeaders } from '../core/envelope.ts';
import { InfraError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { createQuestdbWriter } from '../enrich/questdb-writer.ts';
import { createCleanups } from './cleanups.ts';
import { explain, startEnrichHarness, telemetryStream, type EnrichHarness, type TelemetryMessage } from './enrich-harness.ts';
import { eventually } from './helpers.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const t0 = Date.UTC(2026, 0, 1);
const cleanups = createCleanups();

afterEach(() => cleanups.runAll());

async function harness(options: { telemetryPartitions?: number } = {}): Promise<EnrichHarness> {
  const created = await startEnrichHarness({ brokers, questdbHttpUrl, ...options });
  cleanups.add(() => created.close());
  return created;
}

async function proxyToQuestdb(): Promise<TcpProxy> {
  const url = new URL(questdbHttpUrl);
  const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  cleanups.add(() => proxy.close());
  return proxy;
}

/** `count` messages per device, seq 1..count, two metrics each, one second apart from t0. */
function stream(devices: readonly string[], count: number, firstSeq = 1): TelemetryMessage[] {
  return telemetryStream(devices, count, { firstSeq, t0 });
}

async function metric(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('enrich worker', () => {
  it('stores v1 and v2 readings enriched with the registry site, model, units and calibration, then commits', async () => {
    const h = await harness();
    await h.registerDevice({ deviceId: 'therm-1', site: 'north', model: 'TH-1', units: { temperature: 'degF' }, calibration: { temperature: { scale: 1, offset: 1 } } });
    await h.registerDevice({ deviceId: 'meter-1', site: 'south', model: 'PM-2', calibration: { voltage: { scale: 2, offset: 0 } } });
    await h.produceTelemetry([
      { deviceId: 'therm-1', payload: { v: 1, ts: t0, seq: 1, metrics: { temperature: 211, humidity: 40 } }, receivedAtMs: t0 + 50 },
      { deviceId: 'meter-1', payload: { v: 2, time: '2026-01-01T00:00:00.5Z', seq: 7, readings: [{ name: 'voltage', value: 1500, unit: 'mV' }] }, receivedAtMs: t0 + 900 },
      // No device time: the row takes the gateway's receive time from the header.
      { deviceId: 'meter-1', payload: { v: 2, seq: 8, readings: [{ name: 'current', value: 250, unit: 'mA' }] }, receivedAtMs: t0 + 2000 },
    ]);
    const enricher = await h.startEnricher({
      TRIBUTARY_ENRICH_ALERT_RULES: 'temperature>50',
      // The readings were received in January: every device is long silent by our clock.
      TRIBUTARY_ENRICH_SILENCE_AFTER_MS: '60000',
      TRIBUTARY_ENRICH_SILENCE_CHECK_INTERVAL_MS: '200',
      TRIBUTARY_ENRICH_COMPLETENESS_INTERVAL_MS: '200',
    });
    const table = h.tables.readings;
    const rows = await eventually(
      () => h.query(`select device, site, model, metric, value, unit, seq, ts_source, ts, received_at from '${table}' order by device, metric`),
      (r) => r.length === 4,
      30_000,
      'four readings stored',
    );
    expect(rows).toEqual([
      ['meter-1', 'south', 'PM-2', 'current', 0.25, 'A', 8, 'gateway', '2026-01-01T00:00:02.000000Z', '2026-01-01T00:00:02.000000Z'],
      // calibrated in the device's unit (1500 mV * 2), then normalised
      ['meter-1', 'south', 'PM-2', 'voltage', 3, 'V', 7, 'device', '2026-01-01T00:00:00.500000Z', '2026-01-01T00:00:00.900000Z'],
      ['therm-1', 'north', 'TH-1', 'humidity', 40, '', 1, 'device', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.050000Z'],
      // registry unit degF, calibrated 211 + 1 = 212 degF = 100 degC
      ['therm-1', 'north', 'TH-1', 'temperature', 100, 'degC', 1, 'device', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.050000Z'],
    ]);
    const positions = await h.query(`select kafka_partition, kafka_offset from '${table}' where device = 'meter-1' order by seq`);
    expect(positions[0]?.[0]).toBe(positions[1]?.[0]);
    expect(Number(positions[1]?.[1]) - Number(positions[0]?.[1])).toBe(1);

    await eventually(() => h.committedEverything(h.env().TRIBUTARY_ENRICH_GROUP!), (done) => done, 15_000, 'offsets committed');
    const ready = await fetch(`${enricher.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await metric(enricher.httpUrl, 'tributary_enrich_rows_written_total')).toBe(4);
    expect(await metric(enricher.httpUrl, 'tributary_enrich_records_committed_total')).toBe(3);
    const lagLines = await eventually(
      async () => (await (await fetch(`${enricher.httpUrl}/metrics`)).text()).split('\n').filter((line) => line.startsWith('tributary_enrich_consumer_lag_records{')),
      (lines) => lines.length === 4 && lines.every((line) => line.endsWith(' 0')),
      15_000,
      'consumer lag 0 on every partition',
    );
    expect(lagLines[0]).toContain(`topic="${h.topics.telemetry}"`);

    const alerts = (await h.readTopic(h.topics.alerts, 3)).map((record): Record<string, unknown> => ({ key: record.key, ...(JSON.parse(record.value!.toString()) as Record<string, unknown>) }));
    expect(alerts).toContainEqual({ key: 'therm-1', kind: 'threshold_crossed', deviceId: 'therm-1', metric: 'temperature', value: 100, threshold: 50, operator: '>', atMs: t0 });
    expect(alerts.filter((alert) => alert.kind === 'device_silent').map((alert) => [alert.key, alert.lastHeardMs]).sort()).toEqual([
      ['meter-1', t0 + 2000],
      ['therm-1', t0 + 50],
    ]);
    const snapshots = await eventually(
      () => h.query(`select device, received, duplicates, gaps, resets from '${h.tables.completeness}' latest on ts partition by device order by device`),
      (r) => r.length === 2,
      30_000,
      'completeness snapshots stored',
    );
    expect(snapshots).toEqual([
      ['meter-1', 2, 0, 0, 0],
      ['therm-1', 1, 0, 0, 0],
    ]);
  });

  it('consuming the same records again in a new group adds no rows (DEDUP keys)', async () => {
    const h = await harness();
    const devices = ['dedup-1', 'dedup-2', 'dedup-3', 'dedup-4', 'dedup-5'];
    for (const deviceId of devices) await h.registerDevice({ deviceId, site: 'east' });
    const messages = stream(devices, 40);
    await h.produceTelemetry(messages);
    const expectedRows = messages.length * 2;

    const first = await h.startEnricher({ TRIBUTARY_ENRICH_GROUP: 'dedup-first' });
    await eventually(() => h.committedEverything('dedup-first'), (done) => done, 30_000, 'first group committed');
    await first.stop();
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'first writes applied');
    expect(await h.rowCounts()).toEqual({ rows: expectedRows, distinct: expectedRows });

    const second = await h.startEnricher({ TRIBUTARY_ENRICH_GROUP: 'dedup-second' });
    await eventually(() => h.committedEverything('dedup-second'), (done) => done, 30_000, 'second group committed');
    // The second worker did write every row again; QuestDB merged them.
    expect(await metric(second.httpUrl, 'tributary_enrich_rows_written_total')).toBe(expectedRows);
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'second writes applied');
    expect(await h.rowCounts()).toEqual({ rows: expectedRows, distinct: expectedRows });
  });

  it('dead-letters poison records with their origin and keeps storing the good records behind them', async () => {
    // One partition, so the good records are strictly behind the poison ones.
    const h = await harness({ telemetryPartitions: 1 });
    await h.registerDevice({ deviceId: 'good-1', site: 'west', model: 'G' });
    const poison: TelemetryMessage[] = [
      { deviceId: 'good-1', payload: '{"v":1,"ts":', receivedAtMs: t0 + 1 },
      { deviceId: 'good-1', payload: { v: 3, seq: 1, data: {} }, receivedAtMs: t0 + 2 },
      { deviceId: 'ghost-1', payload: { v: 1, ts: t0, seq: 1, metrics: { temperature: 20 } }, receivedAtMs: t0 + 3 },
    ];
    await h.produceTelemetry([...poison, ...stream(['good-1'], 3)]);
    const enricher = await h.startEnricher();

    const dead = await h.readTopic(h.topics.deadLetter, 3);
    dead.sort((a, b) => Number(a.headers[deadLetterHeaders.sourceOffset]) - Number(b.headers[deadLetterHeaders.sourceOffset]));
    expect(dead.map((record) => record.headers[deadLetterHeaders.errorReason])).toEqual(['invalid_json', 'unknown_version', 'unknown_device']);
    dead.forEach((record, index) => {
      const original = poison[index]!;
      expect(record.key).toBe(original.deviceId);
      expect(record.value?.toString()).toBe(typeof original.payload === 'string' ? original.payload : JSON.stringify(original.payload));
      expect(record.headers).toMatchObject({
        [deadLetterHeaders.sourceTopic]: h.topics.telemetry,
        [deadLetterHeaders.sourcePartition]: '0',
        [deadLetterHeaders.sourceOffset]: String(index),
        [deadLetterHeaders.consumerGroup]: h.env().TRIBUTARY_ENRICH_GROUP,
        // the original envelope travels with it
        [recordHeaders.receivedAtMs]: String(original.receivedAtMs),
        [recordHeaders.mqttTopic]: `devices/${original.deviceId}/telemetry`,
      });
      expect(Number(record.headers[deadLetterHeaders.failedAtMs])).toBeGreaterThan(t0);
      expect(record.headers[deadLetterHeaders.error]).toBeTruthy();
    });

    const rows = await eventually(() => h.query(`select device, seq, metric from '${h.tables.readings}' order by seq, metric`), (r) => r.length === 6, 30_000, 'good rows stored');
    expect(rows).toEqual([1, 2, 3].flatMap((seq) => [['good-1', seq, 'humidity'], ['good-1', seq, 'temperature']]));
    await eventually(() => h.committedEverything(h.env().TRIBUTARY_ENRICH_GROUP!), (done) => done, 15_000, 'poison and good records committed');
    expect(await metric(enricher.httpUrl, 'tributary_enrich_records_committed_total')).toBe(6);
  });

  it('a QuestDB write that failed leaves nothing in the sender to be sent with the next one', async () => {
    const h = await harness();
    const proxy = await proxyToQuestdb();
    const writer = createQuestdbWriter({
      config: { url: `http://127.0.0.1:${proxy.port}`, tablePrefix: `${h.tables.readings.replace(/readings$/, '')}`, maxRowsPerWrite: 100, requestTimeoutMs: 2000 },
      retry: { minDelayMs: 10, maxDelayMs: 50 },
      logger: silentLogger(),
    });
    cleanups.add(() => writer.stop());
    await writer.start();
    const row = (device: string) => ({
      row: { ts: t0, tsSource: 'device' as const, receivedAtMs: t0, device, site: 's', model: 'm', metric: 'temperature', value: 1, unit: 'degC', seq: 1 },
      partition: 0,
      offset: 0,
    });
    await proxy.down();
    const failed = await writer.writeRows([row('lost-in-outage')]).then(() => null, (error: unknown) => error);
    expect(failed).toBeInstanceOf(InfraError);
    expect(failed).toMatchObject({ code: 'QUESTDB_WRITE_FAILED', retriable: true });
    await proxy.up();
    await writer.writeRows([row('after-outage')]);
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'write applied');
    expect(await h.query(`select device from '${h.tables.readings}'`)).toEqual([['after-outage']]);
  });

  it('sends the batches handed over while a request is out together in the next one, and counts requests, not batches', async () => {
    const h = await harness();
    const writer = createQuestdbWriter({
      config: { url: questdbHttpUrl, tablePrefix: `${h.tables.readings.replace(/readings$/, '')}`, maxRowsPerWrite: 100, requestTimeoutMs: 5000 },
      retry: { minDelayMs: 10, maxDelayMs: 50 },
      logger: silentLogger(),
    });
    cleanups.add(() => writer.stop());
    await writer.start();
    const row = (device: string, seq: number) => ({
      row: { ts: t0 + seq, tsSource: 'device' as const, receivedAtMs: t0, device, site: 's', model: 'm', metric: 'temperature', value: seq, unit: 'degC', seq },
      partition: 0,
      offset: seq,
    });
    const first = writer.writeRows([row('group-a', 1)]);
    // The first request is on its way; these three wait for it and then share one request.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([first, writer.writeRows([row('group-b', 1)]), writer.writeRows([row('group-c', 1), row('group-c', 2)]), writer.writeRows([row('group-d', 1)])]);
    const requests = writer.readingsRequests();
    expect(requests).toMatchObject({ count: 2, rows: 5 });
    expect(requests.seconds).toBeGreaterThan(0);
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    expect(await h.query(`select count() from '${h.tables.readings}'`)).toEqual([[5]]);
  });

  it('while QuestDB is unreachable nothing is committed and readiness fails; afterwards every row lands exactly once', async () => {
    const h = await harness();
    const proxy = await proxyToQuestdb();
    const devices = Array.from({ length: 10 }, (_, i) => `outage-${i}`);
    for (const deviceId of devices) await h.registerDevice({ deviceId });
    const enricher = await h.startEnricher({ TRIBUTARY_QUESTDB_URL: `http://127.0.0.1:${proxy.port}` });
    const group = h.env().TRIBUTARY_ENRICH_GROUP!;

    await proxy.down();
    const messages = stream(devices, 30);
    await h.produceTelemetry(messages);
    await eventually(() => metric(enricher.httpUrl, 'tributary_enrich_questdb_write_failures_total'), (failures) => failures >= 5, 30_000, 'write attempts failing');
    const readiness = await fetch(`${enricher.httpUrl}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.text()).toMatch(/questdb failing/);
    // The stuck batch holds up its broker's fetcher: records produced now are not even fetched.
    const consumedWhileFailing = await metric(enricher.httpUrl, 'tributary_enrich_records_consumed_total');
    const late = stream(devices, 10, 31);
    await h.produceTelemetry(late);
    const failuresSoFar = await metric(enricher.httpUrl, 'tributary_enrich_questdb_write_failures_total');
    await eventually(() => metric(enricher.httpUrl, 'tributary_enrich_questdb_write_failures_total'), (failures) => failures >= failuresSoFar + 5, 30_000, 'more write attempts failing');
    expect(await metric(enricher.httpUrl, 'tributary_enrich_records_consumed_total')).toBe(consumedWhileFailing);
    expect(consumedWhileFailing).toBeLessThanOrEqual(messages.length);
    const committed = await h.committedOffsets(group);
    expect([...committed.values()].every((offset) => offset === -1)).toBe(true);
    expect(await metric(enricher.httpUrl, 'tributary_enrich_records_committed_total')).toBe(0);
    expect(await h.rowCounts()).toEqual({ rows: 0, distinct: 0 });

    await proxy.up();
    await eventually(() => h.committedEverything(group), (done) => done, 60_000, 'everything committed after the outage');
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    const expected = (messages.length + late.length) * 2;
    expect(await h.rowCounts()).toEqual({ rows: expected, distinct: expected });
    expect((await fetch(`${enricher.httpUrl}/readyz`)).status).toBe(200);
  });

  it('stopping while QuestDB is unreachable abandons the batch uncommitted, promptly; the next worker writes it all', async () => {
    const h = await harness();
    const proxy = await proxyToQuestdb();
    await h.registerDevice({ deviceId: 'stop-1' });
    const first = await h.startEnricher({ TRIBUTARY_QUESTDB_URL: `http://127.0.0.1:${proxy.port}` });
    const group = h.env().TRIBUTARY_ENRICH_GROUP!;
    await proxy.down();
    const messages = stream(['stop-1'], 50);
    await h.produceTelemetry(messages);
    await eventually(() => metric(first.httpUrl, 'tributary_enrich_questdb_write_failures_total'), (failures) => failures >= 3, 30_000, 'write attempts failing');
    const stopStarted = Date.now();
    await first.stop();
    // Well inside the shutdown deadline: the retry loop ends at once instead of waiting for QuestDB.
    expect(Date.now() - stopStarted).toBeLessThan(10_000);
    expect([...(await h.committedOffsets(group)).values()].every((offset) => offset === -1)).toBe(true);

    await proxy.up();
    await h.startEnricher();
    await eventually(() => h.committedEverything(group), (done) => done, 30_000, 'the next worker committed everything');
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    expect(await h.rowCounts()).toEqual({ rows: messages.length * 2, distinct: messages.length * 2 });
  });

  it('when one of two enricher processes is SIGKILLed mid-stream, the other takes over: none missing, none doubled', async () => {
    const h = await harness({ telemetryPartitions: 6 });
    const devices = Array.from({ length: 24 }, (_, i) => `fleet-${i}`);
    for (const deviceId of devices) await h.registerDevice({ deviceId, site: 'fleet' });
    const group = h.env().TRIBUTARY_ENRICH_GROUP!;
    const a = h.spawnEnricher();
    const b = h.spawnEnricher();
    const admin = h.kafka.admin();
    await admin.connect();
    cleanups.add(() => admin.disconnect());
    await eventually(
      async () => (await admin.describeGroups([group])).groups[0],
      (g) => g?.state === 'Stable' && g.members.length === 2,
      60_000,
      'both enrichers in the group',
    ).catch(explain(a, b));

    const messages = stream(devices, 100);
    let sent = 0;
    let killed!: () => void;
    const kill = new Promise<void>((resolve) => (killed = resolve));
    const producing = (async () => {
      for (let start = 0; start < messages.length; start += 48) {
        // Half the stream goes before the kill and half after, however slow the machine is, so
        // records keep arriving while the dead worker's partitions move.
        if (start >= messages.length / 2) await kill;
        await h.produceTelemetry(messages.slice(start, start + 48));
        sent = Math.min(messages.length, start + 48);
        await delay(40);
      }
    })();
    // Both workers have committed work on every partition: the survivor must resume from the dead one's commits.
    await eventually(async () => [...(await h.committedOffsets(group)).values()], (offsets) => offsets.length === 6 && offsets.every((o) => o > 0), 60_000, 'every partition committed');
    a.process.kill('SIGKILL');
    killed();
    expect(sent).toBeLessThan(messages.length);
    expect((await a.exited).signal).toBe('SIGKILL');
    await producing;
    const expected = messages.length * 2;
    // The dead member's partitions move after its session times out (30 s).
    await eventually(() => h.committedEverything(group), (done) => done, 90_000, 'survivor committed everything').catch(explain(b));
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    expect(await h.rowCounts()).toEqual({ rows: expected, distinct: expected });

    b.process.kill('SIGTERM');
    expect(await b.exited).toEqual({ code: 0, signal: null });
  }, 240_000);
});
