/** `npm run dashboards`: writes the dashboards of tributary-dashboards.ts to ops/grafana/dashboards/ (committed). */
import { writeFile } from 'node:fs/promises';
import { dashboardJson, tributaryDashboards } from './tributary-dashboards.ts';

const dir = new URL('dashboards/', import.meta.url);
for (const { file, dashboard } of tributaryDashboards()) {
  await writeFile(new URL(file, dir), dashboardJson(dashboard));
  console.log(`wrote ops/grafana/dashboards/${file}`);
}
