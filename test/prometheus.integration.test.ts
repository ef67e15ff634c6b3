/**
 * The alert rules and the dashboards against a real Prometheus scraping the real processes: a
 * gateway, an enricher and `tributary api` on the test stack. Devices publish readings and poison
 * (invalid JSON) through MQTT; the dead-letter alert goes pending, then firing. Every PromQL
 * expression of the rules and of the Grafana dashboards must parse and may name only metrics the
 * processes export.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { dashboardPromqlExpressions } from '../ops/grafana/tributary-dashboards.ts';
import { createCleanups } from './cleanups.ts';
import { startEnrichHarness } from './enrich-harness.ts';
import { startGatewayHarness } from './gateway-harness.ts';
import { eventually, uniqueName } from './helpers.ts';
import { deleteGroups, deleteTopics } from './kafka-cleanup.ts';
import { startPrometheus, type PrometheusServer } from './prometheus-server.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const cleanups = createCleanups();
const rulesFile = fileURLToPath(new URL('../ops/prometheus/tributary-rules.yaml', import.meta.url));

afterEach(() => cleanups.runAll());

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string }> }>;
}
interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

/** The project's metric names an expression uses (every product metric starts with tributary_), and `up`. */
export function metricNames(expr: string): string[] {
  const names = new Set(expr.match(/\btributary_[a-z0-9_]+/g) ?? []);
  if (/\bup\s*[{[]/.test(expr)) names.add('up');
  return [...names];
}

/**
 * Every metric name the targets expose: the series Prometheus holds, and the families it read the
 * HELP/TYPE of (a labelled counter has no series until its first event; a histogram family's
 * series carry _bucket, _sum and _count).
 */
async function knownMetricNames(prometheus: PrometheusServer): Promise<Set<string>> {
  const known = new Set(await prometheus.api<string[]>('label/__name__/values'));
  const metadata = await prometheus.api<Array<{ metric: string; type: string }>>('targets/metadata');
  for (const { metric, type } of metadata) {
    known.add(metric);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) known.add(metric + suffix);
  }
  return known;
}

describe('Prometheus against the running processes', () => {
  it('fires the dead-letter alert on poison messages and knows every metric the rules and dashboards name', async () => {
    // `tributary api` (started below) on its own job topics; registered first so that it runs after
    // the enrich harness killed the API child, which holds the jobs group.
    const suffix = uniqueName('prom');
    const apiTopics = { TRIBUTARY_TOPIC_JOBS: `iot.jobs.${suffix}`, TRIBUTARY_TOPIC_JOB_STATE: `iot.jobs.state.${suffix}`, TRIBUTARY_TOPIC_JOB_EVENTS: `iot.jobs.events.${suffix}`, TRIBUTARY_TOPIC_API_TOKENS: `iot.api-tokens.${suffix}`, TRIBUTARY_TOPIC_COMMANDS: `iot.commands.${suffix}`, TRIBUTARY_TOPIC_COMMAND_EVENTS: `iot.command-events.${suffix}` };
    const jobsGroup = `tributary-jobs-${suffix}`;
    cleanups.add(async () => {
      const admin = new Kafka({ clientId: 'prometheus-test-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        await deleteGroups(admin, new Set([jobsGroup]));
        await deleteTopics(admin, Object.values(apiTopics));
      } finally {
        await admin.disconnect();
      }
    });
    const enrich = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 2 });
    cleanups.add(() => enrich.close());
    const gateway = await startGatewayHarness({
      brokers,
      env: enrich.topicEnv,
    });
    cleanups.add(() => gateway.close());
    const enricher = await enrich.startEnricher();

    // `tributary api` as the product composes it (jobs included)
    const api = enrich.spawnCli(['api'], { ...apiTopics, TRIBUTARY_API_JOBS_GROUP: jobsGroup, TRIBUTARY_API_PORT: '0', TRIBUTARY_KAFKA_PARTITIONS: '2', LOG_LEVEL: 'info' });
    const apiPort = await eventually(() => Promise.resolve(/"port":(\d+)[^\n]*"msg":"api running"/.exec(api.stdout())?.[1]), (found) => found !== undefined, 120_000, `the API to listen: ${api.output()}`);

    // The real rules; only `for` is shortened (minutes in production) so pending and firing happen within the test.
    const rules = parse(await readFile(rulesFile, 'utf8')) as RuleFile;
    for (const rule of rules.groups.flatMap((group) => group.rules)) if (rule.for !== undefined) rule.for = '3s';
    const dir = await mkdtemp(join(tmpdir(), 'tributary-rules-'));
    cleanups.add(() => rm(dir, { recursive: true, force: true }));
    const testRules = join(dir, 'tributary-rules.yaml');
    await writeFile(testRules, stringify(rules));

    const prometheus = await startPrometheus({
      targets: {
        'tributary-gateway': [new URL(gateway.httpUrl).host],
        'tributary-enrich': [new URL(enricher.httpUrl).host],
        'tributary-api': [`127.0.0.1:${apiPort}`],
      },
      ruleFiles: [testRules],
    });
    cleanups.add(() => prometheus.stop());
    const up = await eventually(
      () => prometheus.api<{ result: Array<{ metric: { job: string }; value: [number, string] }> }>('query', { query: 'up == 1' }),
      (data) => data.result.length === 3,
      60_000,
      'all three targets scraped',
    );
    expect(up.result.map((sample) => sample.metric.job).sort()).toEqual(['tributary-api', 'tributary-enrich', 'tributary-gateway']);

    const deviceId = 'meter-prom-1';
    await gateway.registerDevice(deviceId, 'meter-secret');
    const client: MqttClient = await eventually(
      () => gateway.connect(deviceId, 'meter-secret').catch(() => null),
      (connected) => connected !== null,
      20_000,
      'device accepted by the gateway',
    ).then((connected) => connected!);
    cleanups.add(() => client.endAsync());

    // Readings and poison until the alert fires: increase() needs two samples of the dead-letter
    // series, so a single burst would never count.
    let seq = 0;
    const states: string[] = [];
    const deadLetterAlert = async (): Promise<Alert | undefined> => {
      seq += 1;
      await client.publishAsync(`devices/${deviceId}/telemetry`, JSON.stringify({ v: 1, ts: Date.now(), seq, metrics: { power: seq } }), { qos: 1 });
      await client.publishAsync(`devices/${deviceId}/telemetry`, '{"v":1,"ts":', { qos: 1 });
      const { alerts } = await prometheus.api<{ alerts: Alert[] }>('alerts');
      const alert = alerts.find((candidate) => candidate.labels.alertname === 'TributaryDeadLettersGrowing');
      if (alert && states.at(-1) !== alert.state) states.push(alert.state);
      return alert;
    };
    const fired = await eventually(deadLetterAlert, (alert) => alert?.state === 'firing', 90_000, 'TributaryDeadLettersGrowing firing');
    expect(fired?.labels).toMatchObject({ reason: 'invalid_json', severity: 'warning' });
    expect(states).toEqual(['pending', 'firing']);

    const known = await knownMetricNames(prometheus);
    // the check itself: an unknown name is caught
    expect(metricNames('rate(tributary_no_such_metric_total[5m])').filter((name) => !known.has(name))).toEqual(['tributary_no_such_metric_total']);
    const expressions = [
      ...rules.groups.flatMap((group) => group.rules.map((rule) => ({ source: `rule ${rule.alert}`, expr: rule.expr }))),
      ...dashboardPromqlExpressions().map(({ dashboard, panel, expr }) => ({ source: `dashboard ${dashboard} / ${panel}`, expr: expr.replaceAll('$__rate_interval', '1m') })),
    ];
    const problems: string[] = [];
    for (const { source, expr } of expressions) {
      const names = metricNames(expr);
      if (names.length === 0) problems.push(`${source}: names no metric: ${expr}`);
      const unknown = names.filter((name) => !known.has(name));
      if (unknown.length > 0) problems.push(`${source}: unknown metric(s) ${unknown.join(', ')}`);
      await prometheus.api('query', { query: expr }).catch((error: unknown) => problems.push(`${source}: ${String(error)}`));
    }
    expect(problems).toEqual([]);
    expect(expressions.length).toBeGreaterThan(20);
  });
});
