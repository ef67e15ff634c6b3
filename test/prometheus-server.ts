/**
 * A real Prometheus (Debian's `prometheus` binary) for the monitoring tests: scrapes the given
 * targets every second and evaluates the given rule files, its TSDB in a temporary directory.
 * It runs as a managed process under the owner watchdog, so even a killed test run leaves no
 * server behind; `stop` terminates it and removes the directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startManagedProcess, stopProcessGroup } from '../infra/managed-process.ts';
import { eventually } from './helpers.ts';

export interface PrometheusServer {
  url: string;
  /** GET /api/v1/<path>; fails on a non-success answer with Prometheus' error. */
  api<T>(path: string, params?: Record<string, string>): Promise<T>;
  /** Prometheus' log so far, for failure messages. */
  logFile: string;
  stop(): Promise<void>;
}

/** A free loopback port: bound by the OS, released, then given to Prometheus. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPrometheus(options: { targets: Record<string, string[]>; ruleFiles: string[] }): Promise<PrometheusServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-prometheus-'));
  const config = {
    // 1 s so that rates and alert states move within a test; rules are evaluated as often.
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles,
    scrape_configs: Object.entries(options.targets).map(([job, targets]) => ({ job_name: job, static_configs: [{ targets }] })),
  };
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'prometheus.log');
  const started = startManagedProcess({
    command: 'prometheus',
    args: [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    logFile,
    ownerPid: process.pid,
  });
  const stop = async (): Promise<void> => {
    await stopProcessGroup(started.pgid, 10_000);
    await rm(dir, { recursive: true, force: true });
  };
  const api = async <T>(path: string, params: Record<string, string> = {}): Promise<T> => {
    const response = await fetch(`${url}/api/v1/${path}?${new URLSearchParams(params).toString()}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${response.status} ${body.error ?? ''}`);
    return body.data;
  };
  try {
    await eventually(() => fetch(`${url}/-/ready`).then((response) => response.ok, () => false), (ready) => ready, 30_000, 'Prometheus ready');
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, api, logFile, stop };
}
