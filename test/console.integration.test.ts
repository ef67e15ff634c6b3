/**
 * The operator console end to end, in headless Chromium (Debian's, driven by playwright-core)
 * against an API composed in this process as `tributary api` composes it (the console, the job
 * runner, the dashboard reads) on the real Kafka and QuestDB, and a real in-process enricher: the operator enters
 * a token, sees the enricher ready and the group's lag, starts a replay from the page and watches
 * its progress bar move to 100 % with the QuestDB row count unchanged; sees a refused form's
 * problem; then a device's dead letters, re-driven from the page once the device is registered,
 * appear in the device lookup's table and chart.
 */
import { Kafka, logLevel } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { encodeTokenRecord, issueToken } from '../api/api-token.ts';
import { readApiReadConfig } from '../api/read-config.ts';
import { jobsExtension } from '../bin/api-jobs.ts';
import { readsExtension } from '../bin/api-reads.ts';
import { apiExtensions, composeApi } from '../bin/commands/api-command.ts';
import { commandSettings } from '../bin/settings-catalog.ts';
import { createEnvReader } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { readSettings } from '../core/settings.ts';
import { readEnrichConfig } from '../enrich/enrich-config.ts';
import { createCleanups } from './cleanups.ts';
import { startEnrichHarness, telemetryStream, type EnrichHarness } from './enrich-harness.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteGroups, deleteTopics } from './kafka-cleanup.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const pgUrl = `postgresql://admin:quest@127.0.0.1:${inject('questdbPgPort')}/qdb`;
const cleanups = createCleanups();
const logger = silentLogger();

afterEach(() => cleanups.runAll());

interface Rig {
  h: EnrichHarness;
  page: Page;
  /** The job id the page says it started, once its result line shows one. */
  startedJob(form: 'replay' | 'redrive'): Promise<string>;
  /** Waits for the job's row to show `succeeded` with its bar at 100; returns every bar value seen on the way. */
  watchJob(id: string): Promise<number[]>;
}

async function rig(): Promise<Rig> {
  const suffix = uniqueName('console');
  const topics = { jobs: `iot.jobs.${suffix}`, jobState: `iot.jobs.state.${suffix}`, jobEvents: `iot.jobs.events.${suffix}`, commands: `iot.commands.${suffix}`, commandEvents: `iot.command-events.${suffix}`, apiTokens: `iot.api-tokens.${suffix}` };
  const jobGroup = `tributary-jobs-${suffix}`;
  // Registered first, so it runs after the harness and the API stopped.
  cleanups.add(async () => {
    const admin = new Kafka({ clientId: 'console-test-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await deleteGroups(admin, new Set([jobGroup]));
      await deleteTopics(admin, Object.values(topics));
    } finally {
      await admin.disconnect();
    }
  });
  const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 2 });
  cleanups.add(() => h.close());
  const enricher = await h.startEnricher();

  const env = createEnvReader({
    ...h.env(),
    TRIBUTARY_TOPIC_JOBS: topics.jobs,
    TRIBUTARY_TOPIC_JOB_STATE: topics.jobState,
    TRIBUTARY_TOPIC_JOB_EVENTS: topics.jobEvents,
    TRIBUTARY_TOPIC_COMMANDS: topics.commands,
    TRIBUTARY_TOPIC_COMMAND_EVENTS: topics.commandEvents,
    TRIBUTARY_TOPIC_API_TOKENS: topics.apiTokens,
    TRIBUTARY_KAFKA_PARTITIONS: '2',
    TRIBUTARY_API_PORT: '0',
    TRIBUTARY_API_QUESTDB_PG_URL: pgUrl,
    TRIBUTARY_API_WATCH_GATEWAYS: 'none',
    TRIBUTARY_API_WATCH_ENRICHERS: enricher.httpUrl,
    TRIBUTARY_API_PIPELINE_SCRAPE_INTERVAL_MS: '500',
    TRIBUTARY_API_JOBS_GROUP: jobGroup,
    TRIBUTARY_API_JOB_CHECKPOINT_MS: '200',
  });
  const settings = readSettings(env, commandSettings.api);
  const enrich = readEnrichConfig(env);
  const reads = readApiReadConfig(env);
  env.finish();
  // The extensions `tributary api` runs (bin/commands/api-command.ts): the console, jobs, reads.
  const api = composeApi(settings, logger, { extensions: [...apiExtensions, jobsExtension(enrich), readsExtension(reads)], instanceId: suffix });
  cleanups.add(() => api.stop());
  await api.start();
  const base = `http://127.0.0.1:${api.port()}`;

  const issued = issueToken({ name: 'console-test', scopes: ['operate'], nowMs: Date.now() });
  if (!issued.ok) throw new Error(issued.reason);
  const producer = h.kafka.producer();
  await producer.connect();
  await producer.send({ topic: topics.apiTokens, acks: -1, messages: [{ key: issued.value.record.id, value: encodeTokenRecord(issued.value.record) }] });
  await producer.disconnect();
  await eventually(() => fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${issued.value.token}` } }).then((r) => r.status), (status) => status === 200, 15_000, 'the API to follow the token');

  const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  // Also after a failed test: no browser process is left behind.
  cleanups.add(() => browser.close());
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  cleanups.add(async () => expect(pageErrors, 'errors thrown in the page').toEqual([]));
  await page.goto(`${base}/console`);
  await page.fill('#token-input', issued.value.token);
  await page.click('#token-submit');

  return {
    h,
    page,
    async startedJob(form) {
      await page.waitForSelector(`#${form}-result[data-job-id]`, { timeout: 15_000 }).catch(async (error: unknown) => {
        throw new Error(`no job started from the ${form} form; it shows: ${await page.textContent(`#${form}-error`)}`, { cause: error });
      });
      return (await page.getAttribute(`#${form}-result`, 'data-job-id'))!;
    },
    async watchJob(id) {
      const seen: number[] = [];
      const bar = page.locator(`tr[data-job-id="${id}"] progress[data-testid="job-progress"]`);
      await eventually(
        async () => {
          const value = Number(await bar.getAttribute('value', { timeout: 5000 }));
          if (seen.at(-1) !== value) seen.push(value);
          return { value, state: await page.getAttribute(`tr[data-job-id="${id}"]`, 'data-state') };
        },
        ({ value, state }) => value === 100 && state === 'succeeded',
        90_000,
        `job ${id} at 100 % and succeeded on the page`,
      );
      return seen;
    },
  };
}

describe('operator console', () => {
  it('starts a replay from the page and watches it reach 100 %; re-drives dead letters after the device is registered and shows its rows', async () => {
    const r = await rig();
    const { h, page } = r;
    const now = Date.now();
    // Recent readings, so the lookup's "last hour" chart holds them.
    const t0 = now - 10 * 60_000;
    await h.registerDevice({ deviceId: 'con-1', site: 'site-a', units: { temperature: 'degC' } });
    const messages = telemetryStream(['con-1'], 300, { t0 });
    await h.produceTelemetry(messages);
    await eventually(() => h.rowCounts(), (counts) => counts.rows === 600, 60_000, '600 rows written by the enricher');

    // The pipeline: the enricher ready, its group's lag read per partition.
    await page.waitForSelector('tr[data-testid="service-enricher"] .ok', { timeout: 30_000 });
    await eventually(async () => page.textContent('#lag-caption'), (text) => /: 0 records$/.test(text ?? ''), 30_000, 'the lag caption to show no lag');
    expect(await page.locator('#lag tbody tr').count()).toBe(2);

    // A refused request shows the API's problem, field by field.
    await page.fill('#replay-partitions', '7');
    await page.click('#replay-submit');
    await page.waitForSelector('#replay-error:not(:empty)');
    expect(await page.textContent('#replay-error')).toMatch(/^400 .*\n\/body\/partitions: the telemetry topic has partitions 0-1; no partition 7/);

    // A replay of everything, capped at 100 records a second so the bar is seen moving.
    await page.fill('#replay-partitions', 'all');
    await page.fill('#replay-rate', '100');
    await page.click('#replay-submit');
    const replay = await r.startedJob('replay');
    const seen = await r.watchJob(replay);
    expect(seen.some((value) => value > 0 && value < 100), `bar values seen: ${seen.join(', ')}`).toBe(true);
    expect(await page.textContent('#jobs-mode')).toMatch(/^Live updates/);
    expect(await page.textContent(`tr[data-job-id="${replay}"]`)).toContain(`100 % (${messages.length}/${messages.length})`);
    await eventually(() => h.walApplied(h.tables.readings), (applied) => applied, 30_000, 'writes applied');
    expect(await h.rowCounts()).toEqual({ rows: 600, distinct: 600 });

    // Telemetry of a device not registered yet: dead-lettered by the enricher.
    const late = telemetryStream(['con-late'], 20, { t0 });
    await h.produceTelemetry(late);
    await eventually(() => h.endOffsets(h.topics.deadLetter), (ends) => [...ends.values()].reduce((a, b) => a + b, 0) >= 20, 60_000, '20 dead letters');
    await eventually(async () => page.textContent('#dead-letters tr[data-reason="unknown_device"]'), (text) => text === 'unknown_device20', 30_000, 'the dead letters by reason on the page');
    await page.fill('#device-id', 'con-late');
    await page.click('#device-submit');
    await page.waitForSelector('#device-error:not(:empty)');
    expect(await page.textContent('#device-error')).toMatch(/^404 Unknown device/);

    await h.registerDevice({ deviceId: 'con-late', site: 'site-late', units: { temperature: 'degC' } });
    await page.fill('#redrive-device', 'con-late');
    await page.click('#redrive-submit');
    const redrive = await r.startedJob('redrive');
    await r.watchJob(redrive);
    expect(await page.textContent(`tr[data-job-id="${redrive}"]`)).toMatch(/succeeded.*\b40$/);

    // The device lookup shows its rows: latest values and the chart (once QuestDB applied the write).
    const points = await eventually(
      async () => {
        await page.click('#device-submit');
        await page.waitForTimeout(300);
        return Number(await page.getAttribute('#device-chart', 'data-points'));
      },
      (count) => count > 0,
      30_000,
      'the chart of con-late to have points',
    );
    // 20 readings a second apart fall in one or two one-minute buckets.
    expect(points).toBeGreaterThanOrEqual(1);
    expect(await page.textContent('#device-error')).toBe('');
    const latest = await page.locator('#device-latest tbody tr').allTextContents();
    expect(latest.sort()).toEqual([expect.stringMatching(/^humidity40/), expect.stringMatching(/^temperature\d+ degC.*site-late$/)]);
    expect(await page.locator('#device-chart path[data-testid="chart-line"]').count()).toBe(1);
  });
});
