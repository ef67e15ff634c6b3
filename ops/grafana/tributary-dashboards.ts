/**
 * Tributary's Grafana dashboards as code (@grafana/grafana-foundation-sdk). `npm run dashboards`
 * writes them to ops/grafana/dashboards/; a unit test fails when the committed JSON is stale, and
 * test/prometheus.integration.test.ts runs every PromQL expression against a Prometheus scraping the
 * real processes. Datasource uids match ops/grafana/provisioning/datasources/tributary.yaml.
 */
import { DashboardBuilder, QueryVariableBuilder, RowBuilder, VariableRefresh, VariableType } from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder as PromQuery } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { completenessColumns as c, completenessTableName, readingsColumns as r, readingsTableName } from '../../core/questdb-tables.ts';
import { SqlQueryBuilder } from './sql-query-builder.ts';

export const prometheusDatasource = { type: 'prometheus', uid: 'prometheus' };
export const questdbDatasource = { type: 'grafana-postgresql-datasource', uid: 'questdb' };
// The default table prefix (TRIBUTARY_QUESTDB_TABLE_PREFIX is empty unless an installation sets one).
const readings = readingsTableName('');
const completeness = completenessTableName('');

/** A time series panel of PromQL queries, each `[expr, legend]`. */
function promPanel(title: string, unit: string, queries: ReadonlyArray<readonly [string, string]>): TimeseriesPanel {
  const panel = new TimeseriesPanel().title(title).unit(unit).datasource(prometheusDatasource).span(12).height(8);
  queries.forEach(([expr, legend], index) => panel.withTarget(new PromQuery().expr(expr).legendFormat(legend).refId(String.fromCharCode(65 + index))));
  return panel;
}

const rate = (metric: string, by = ''): string => `sum${by ? ` by (${by})` : ''} (rate(${metric}[$__rate_interval]))`;
const quantile = (q: number, histogram: string): string => `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket[$__rate_interval])))`;
/** Requests counted by `<base>s_total`, `<base>_<items>_total` and `<base>_seconds_total`: their rate, and items and ms per request. */
const requestPanel = (title: string, base: string, items: string) =>
  promPanel(title, 'short', [
    [rate(`${base}s_total`), 'requests / s'],
    [`${rate(`${base}_${items}_total`)} / ${rate(`${base}s_total`)}`, `${items} per request`],
    [`1000 * ${rate(`${base}_seconds_total`)} / ${rate(`${base}s_total`)}`, 'ms per request'],
  ]);
const processes = [
  ['gateway', 'tributary_gateway_'],
  ['enricher', 'tributary_enrich_'],
  ['api', 'tributary_api_'],
] as const;

function pipelineDashboard(): Dashboard {
  return new DashboardBuilder('Tributary pipeline')
    .uid('tributary-pipeline')
    .tags(['tributary'])
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .withRow(new RowBuilder('Throughput per stage'))
    .withPanel(
      promPanel('MQTT publishes in, acknowledged, failed', 'ops', [
        [rate('tributary_gateway_publishes_received_total', 'qos'), 'received QoS {{qos}}'],
        [rate('tributary_gateway_fast_lane_publishes_total'), 'of those, read without Aedes (fast lane)'],
        [rate('tributary_gateway_publishes_acknowledged_total'), 'acknowledged (in Kafka)'],
        [rate('tributary_gateway_publishes_failed_total'), 'failed (Kafka did not take)'],
      ]),
    )
    .withPanel(
      promPanel('Enricher: consumed, committed, rows written', 'ops', [
        [rate('tributary_enrich_records_consumed_total'), 'records consumed'],
        [rate('tributary_enrich_records_committed_total'), 'records committed'],
        [rate('tributary_enrich_rows_written_total'), 'rows written to QuestDB'],
      ]),
    )
    .withPanel(
      promPanel('Dropped and refused at the gateway', 'ops', [
        [rate('tributary_gateway_qos0_dropped_total', 'reason'), 'QoS 0 dropped: {{reason}}'],
        [rate('tributary_gateway_publishes_refused_total', 'reason'), 'refused: {{reason}}'],
        [rate('tributary_gateway_rate_limited_total', 'limit'), 'rate limited: {{limit}}'],
      ]),
    )
    .withPanel(promPanel('Gateway connections', 'short', [['sum by (instance) (tributary_gateway_connections)', '{{instance}}']]))
    .withRow(new RowBuilder('Latency'))
    .withPanel(
      promPanel('PUBACK latency (Kafka acks=all included)', 's', [
        [quantile(0.5, 'tributary_gateway_puback_latency_seconds'), 'p50'],
        [quantile(0.99, 'tributary_gateway_puback_latency_seconds'), 'p99'],
      ]),
    )
    .withPanel(
      // One request in flight: batches that grow large and slow mean the gateway is behind (docs/benchmarks/produce-requests.md).
      requestPanel('Gateway → Kafka produce requests: per second, records and ms each', 'tributary_gateway_kafka_produce_request', 'records'),
    )
    .withPanel(
      promPanel('Enricher latency', 's', [
        [quantile(0.99, 'tributary_enrich_batch_seconds'), 'batch receipt to commit p99'],
        [quantile(0.99, 'tributary_enrich_event_lag_seconds'), 'reading time to processing p99'],
      ]),
    )
    .withRow(new RowBuilder('Lag and dead letters'))
    .withPanel(promPanel('Consumer lag', 'short', [['sum by (topic) (max by (topic, partition) (tributary_enrich_consumer_lag_records))', '{{topic}}']]))
    .withPanel(promPanel('Dead letters by reason', 'ops', [[rate('tributary_enrich_dead_lettered_total', 'reason'), '{{reason}}']]))
    .withRow(new RowBuilder('QuestDB writes'))
    .withPanel(
      // Every request is one transaction; fewer, larger ones cost QuestDB less (docs/questdb-tuning.md).
      requestPanel('QuestDB transactions (write requests): per second, rows and ms each', 'tributary_enrich_questdb_request', 'rows'),
    )
    .withPanel(
      promPanel("A partition batch's write, until QuestDB committed it", 's', [
        [quantile(0.5, 'tributary_enrich_questdb_write_seconds'), 'p50'],
        [quantile(0.99, 'tributary_enrich_questdb_write_seconds'), 'p99'],
      ]),
    )
    .withPanel(
      promPanel('QuestDB write failures and suspended tables', 'short', [
        [rate('tributary_enrich_questdb_write_failures_total'), 'write failures / s (retried)'],
        ['max(tributary_enrich_questdb_tables_suspended)', 'tables suspended'],
      ]),
    )
    .withRow(new RowBuilder('Processes'))
    .withPanel(promPanel('CPU (cores)', 'short', processes.map(([name, prefix]) => [`sum by (instance) (rate(${prefix}process_cpu_seconds_total[$__rate_interval]))`, `${name} {{instance}}`] as const)))
    .withPanel(promPanel('Resident memory', 'bytes', processes.map(([name, prefix]) => [`sum by (instance) (${prefix}process_resident_memory_bytes)`, `${name} {{instance}}`] as const)))
    .withPanel(promPanel('Event loop lag p99', 's', processes.map(([name, prefix]) => [`max by (instance) (${prefix}nodejs_eventloop_lag_p99_seconds)`, `${name} {{instance}}`] as const)))
    .withPanel(promPanel('Ready (1) or not (0)', 'short', [['min by (job, instance) (tributary_ready)', '{{job}} {{instance}}']]))
    .build();
}

const siteFilter = `${r.site} IN ($site)`;

function telemetryDashboard(): Dashboard {
  const sql = (rawSql: string, format: 'table' | 'time_series' = 'table'): SqlQueryBuilder => new SqlQueryBuilder(rawSql, format).refId('A');
  return new DashboardBuilder('Tributary telemetry')
    .uid('tributary-telemetry')
    .tags(['tributary'])
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .withVariable(
      new QueryVariableBuilder('site')
        .label('Site')
        .datasource(questdbDatasource)
        .query(`SELECT DISTINCT ${r.site} FROM ${readings} WHERE ${r.site} IS NOT NULL ORDER BY ${r.site}`)
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true),
    )
    .withRow(new RowBuilder('Readings'))
    .withPanel(
      new TimeseriesPanel()
        .title('Readings per site')
        .datasource(questdbDatasource)
        .span(12)
        .height(8)
        // QuestDB's SAMPLE BY takes Grafana's $__interval (30s, 5m, 1h) as its step
        .withTarget(sql(`SELECT ${r.ts} AS time, ${r.site} AS metric, count() AS readings FROM ${readings} WHERE $__timeFilter(${r.ts}) AND ${siteFilter} SAMPLE BY $__interval ALIGN TO CALENDAR`, 'time_series')),
    )
    .withPanel(
      new TablePanel()
        .title('Devices per site')
        .datasource(questdbDatasource)
        .span(12)
        .height(8)
        .withTarget(sql(`SELECT ${r.site}, count_distinct(${r.device}) AS devices, count() AS readings, max(${r.ts}) AS last_reading FROM ${readings} WHERE $__timeFilter(${r.ts}) AND ${siteFilter} GROUP BY ${r.site} ORDER BY ${r.site}`)),
    )
    .withPanel(
      new TablePanel()
        .title('Series per device')
        .datasource(questdbDatasource)
        .span(24)
        .height(10)
        .withTarget(
          sql(
            `SELECT ${r.device}, ${r.site}, ${r.metric}, last(${r.unit}) AS unit, count() AS readings, last(${r.value}) AS last_value, max(${r.ts}) AS last_seen ` +
              `FROM ${readings} WHERE $__timeFilter(${r.ts}) AND ${siteFilter} GROUP BY ${r.device}, ${r.site}, ${r.metric} ORDER BY ${r.device}, ${r.metric} LIMIT 1000`,
          ),
        ),
    )
    .withRow(new RowBuilder('Completeness and alerts'))
    .withPanel(
      new TablePanel()
        .title('Completeness per device (least complete first)')
        .description('From the enricher’s sequence counters: received distinct messages, and the seqs still missing (gaps).')
        .datasource(questdbDatasource)
        .span(12)
        .height(10)
        .withTarget(
          sql(
            `SELECT ${c.device}, last(${c.received}) AS received, last(${c.gaps}) AS gaps, last(${c.duplicates}) AS duplicates, last(${c.resets}) AS resets, ` +
              `round(100.0 * last(${c.received}) / (last(${c.received}) + last(${c.gaps})), 2) AS completeness_pct ` +
              `FROM ${completeness} WHERE $__timeFilter(${c.ts}) GROUP BY ${c.device} ORDER BY completeness_pct LIMIT 100`,
          ),
        ),
    )
    .withPanel(
      new TablePanel()
        .title('Silent devices (no reading for 5 minutes)')
        .datasource(questdbDatasource)
        .span(12)
        .height(10)
        .withTarget(
          sql(
            `SELECT ${r.device}, ${r.site}, last_seen FROM (SELECT ${r.device}, ${r.site}, max(${r.ts}) AS last_seen FROM ${readings} WHERE $__timeFilter(${r.ts}) AND ${siteFilter} GROUP BY ${r.device}, ${r.site}) ` +
              `WHERE last_seen < dateadd('m', -5, now()) ORDER BY last_seen LIMIT 500`,
          ),
        ),
    )
    .withPanel(
      promPanel('Alert events published (thresholds, silent devices)', 'short', [['sum by (kind) (increase(tributary_enrich_alerts_published_total[$__rate_interval]))', '{{kind}}']]),
    )
    .withPanel(
      new StatPanel()
        .title('Devices connected now')
        .datasource(prometheusDatasource)
        .span(12)
        .height(8)
        .withTarget(new PromQuery().expr('sum(tributary_gateway_connections)').refId('A')),
    )
    .build();
}

/** Each dashboard with the file name it is committed under in ops/grafana/dashboards/. */
export function tributaryDashboards(): Array<{ file: string; dashboard: Dashboard }> {
  return [
    { file: 'tributary-pipeline.json', dashboard: pipelineDashboard() },
    { file: 'tributary-telemetry.json', dashboard: telemetryDashboard() },
  ];
}

/** The file content: stable JSON, so a stale file shows as a plain diff. */
export function dashboardJson(dashboard: Dashboard): string {
  return JSON.stringify(dashboard, null, 2) + '\n';
}

interface PanelLike {
  title?: string;
  datasource?: { type?: string };
  targets?: Array<{ expr?: string; rawSql?: string }>;
}

function panelsOf(dashboard: Dashboard): PanelLike[] {
  return (dashboard.panels ?? []) as PanelLike[];
}

/** Every PromQL expression of the dashboards, for the live Prometheus check. */
export function dashboardPromqlExpressions(): Array<{ dashboard: string; panel: string; expr: string }> {
  return tributaryDashboards().flatMap(({ dashboard }) =>
    panelsOf(dashboard).flatMap((panel) => (panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ dashboard: dashboard.title ?? '', panel: panel.title ?? '', expr: target.expr }]))),
  );
}

/** Every SQL query of the dashboards (panels and variables), for the QuestDB check. */
export function dashboardSqlQueries(): Array<{ dashboard: string; panel: string; sql: string }> {
  return tributaryDashboards().flatMap(({ dashboard }) => [
    ...panelsOf(dashboard).flatMap((panel) => (panel.targets ?? []).flatMap((target) => (target.rawSql === undefined ? [] : [{ dashboard: dashboard.title ?? '', panel: panel.title ?? '', sql: target.rawSql }]))),
    ...(dashboard.templating?.list ?? []).flatMap((variable) => (typeof variable.query === 'string' && variable.type === VariableType.Query ? [{ dashboard: dashboard.title ?? '', panel: `variable ${variable.name}`, sql: variable.query }] : [])),
  ]);
}
