/**
 * Settings of the pipeline status the API reports (GET /v1/pipeline/status, the console): which
 * gateways and enrichers it watches through their health servers, and how often it scrapes them.
 * The enricher group whose lag it reports is the enricher's own setting (TRIBUTARY_ENRICH_GROUP),
 * composed into the `api` command's table by the catalog, so both read the same variable.
 */
import type { EnvReader } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { intSetting, stringSetting, type SettingValues } from '../core/settings.ts';

export const pipelineStatusSettings = {
  watchGateways: stringSetting({
    name: 'TRIBUTARY_API_WATCH_GATEWAYS',
    // The gateway's default health port (TRIBUTARY_GATEWAY_HTTP_PORT); `tributary start` passes the one it uses.
    default: 'http://127.0.0.1:9464',
    help: "the gateways' health servers (/readyz, /metrics) the pipeline status watches, comma-separated base URLs, or none",
  }),
  watchEnrichers: stringSetting({
    name: 'TRIBUTARY_API_WATCH_ENRICHERS',
    default: 'http://127.0.0.1:9465',
    help: "the enrichers' health servers (/readyz, /metrics) the pipeline status watches, comma-separated base URLs, or none",
  }),
  pipelineScrapeIntervalMs: intSetting({
    name: 'TRIBUTARY_API_PIPELINE_SCRAPE_INTERVAL_MS',
    default: 5000,
    min: 200,
    max: 600_000,
    help: 'how often the pipeline status scrapes the watched services and reads the enricher group lag; rates are over the last interval',
  }),
} as const;

export interface PipelineStatusConfig {
  gateways: string[];
  enrichers: string[];
  scrapeIntervalMs: number;
}

/** The settings' values checked; a bad URL is a ConfigError naming every problem. */
export function pipelineStatusConfig(values: SettingValues<typeof pipelineStatusSettings>): PipelineStatusConfig {
  const problems: string[] = [];
  const env = { problem: (message: string) => void problems.push(message) };
  const config = {
    gateways: parseWatchList(values.watchGateways, pipelineStatusSettings.watchGateways.name, env),
    enrichers: parseWatchList(values.watchEnrichers, pipelineStatusSettings.watchEnrichers.name, env),
    scrapeIntervalMs: values.pipelineScrapeIntervalMs,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `none`, or comma-separated http(s) base URLs (a trailing slash dropped). */
export function parseWatchList(text: string, name: string, env: Pick<EnvReader, 'problem'>): string[] {
  if (text.trim() === 'none') return [];
  const urls: string[] = [];
  for (const item of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const url = URL.canParse(item) ? new URL(item) : null;
    if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
      env.problem(`${name}: ${JSON.stringify(item)} is not an http(s) base URL like http://127.0.0.1:9464`);
      continue;
    }
    urls.push(item.replace(/\/+$/, ''));
  }
  return urls;
}
