/**
 * Settings of the pipeline status the API reports (GET /v1/pipeline/status, the console): which
 * gateways and enrichers it watches through their health servers, and how often it scrapes them.
 * The enricher group whose lag it reports is the enricher's own setting (TRIBUTARY_ENRICH_GROUP),
 * composed into the `api` command's table by the catalog, so both read the same variable.
 */
import type { EnvReader } from '../core/config.ts';
import { intSetting, readSettings, stringSetting } from '../core/settings.ts';

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

/** Reads the settings; problems go to `env` (reported together by `env.finish()`). */
export function readPipelineStatusConfig(env: EnvReader): PipelineStatusConfig {
  const s = readSettings(env, pipelineStatusSettings);
  return {
    gateways: parseWatchList(s.watchGateways, pipelineStatusSettings.watchGateways.name, env),
    enrichers: parseWatchList(s.watchEnrichers, pipelineStatusSettings.watchEnrichers.name, env),
    scrapeIntervalMs: s.pipelineScrapeIntervalMs,
  };
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
