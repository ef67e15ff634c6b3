import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboardJson, dashboardPromqlExpressions, dashboardSqlQueries, prometheusDatasource, questdbDatasource, tributaryDashboards } from './tributary-dashboards.ts';

const dir = new URL('dashboards/', import.meta.url);

describe('Grafana dashboards', () => {
  it('are committed as the builder produces them (run `npm run dashboards` after a change)', async () => {
    const dashboards = tributaryDashboards();
    expect((await readdir(dir)).sort()).toEqual(dashboards.map(({ file }) => file).sort());
    for (const { file, dashboard } of dashboards) expect(await readFile(new URL(file, dir), 'utf8'), `ops/grafana/dashboards/${file} is stale`).toBe(dashboardJson(dashboard));
  });

  it('give every panel a datasource the provisioning defines and at least one query with a refId', async () => {
    const provisioned = parse(await readFile(new URL('provisioning/datasources/tributary.yaml', import.meta.url), 'utf8')) as { datasources: Array<{ uid: string; type: string }> };
    const datasources = provisioned.datasources.map(({ uid, type }) => `${type}/${uid}`).sort();
    expect(datasources).toEqual([prometheusDatasource, questdbDatasource].map(({ uid, type }) => `${type}/${uid}`).sort());
    for (const { dashboard } of tributaryDashboards()) {
      for (const panel of dashboard.panels ?? []) {
        if (panel.type === 'row') continue;
        const { title, datasource, targets } = panel as { title: string; datasource?: { type: string; uid: string }; targets?: Array<{ refId?: string }> };
        expect(datasources, title).toContain(`${datasource?.type}/${datasource?.uid}`);
        expect(targets?.length, title).toBeGreaterThan(0);
        for (const target of targets ?? []) expect(target.refId, title).toMatch(/^[A-Z]$/);
      }
    }
  });

  it('query Prometheus in the pipeline dashboard and QuestDB (SQL on the tables of core/questdb-tables.ts) in the telemetry one', () => {
    expect(dashboardPromqlExpressions().filter(({ dashboard }) => dashboard === 'Tributary pipeline').length).toBeGreaterThan(15);
    const sql = dashboardSqlQueries();
    expect(sql.every(({ dashboard }) => dashboard === 'Tributary telemetry')).toBe(true);
    expect(sql.map(({ sql: text }) => /FROM (readings|device_completeness)\b/.exec(text)?.[1]).sort()).toEqual(['device_completeness', 'readings', 'readings', 'readings', 'readings', 'readings']);
  });
});
