/**
 * Idle connections vs gateway memory: starts a gateway child, then opens connections in steps
 * (devices that connect and publish nothing) and reads the gateway's RSS once each step settled.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { createBenchCredentials, registerBenchDevices } from './bench-devices.ts';
import { createDeviceFleet, type DeviceFleet } from './device-fleet.ts';
import { createKafkaAuditor } from './kafka-audit.ts';
import { freePort, startPipelineProcess } from './pipeline-process.ts';
import { readProcessUsage } from './process-usage.ts';
import { gatewayEnv, runNames } from './run-names.ts';
import { metricTotal } from '../core/prometheus-text.ts';

export interface ConnectionStep {
  connections: number;
  connectMs: number;
  connectFailures: number;
  gatewayRssMiB: number;
  gatewayPeakRssMiB: number;
  /** (RSS - RSS with no connections) / connections. */
  gatewayKiBPerConnection: number;
  /** From the gateway's own /metrics (prom-client defaults): where the RSS is. */
  gatewayHeapUsedMiB: number | null;
  gatewayHeapTotalMiB: number | null;
  gatewayExternalMiB: number | null;
  loadGeneratorRssMiB: number;
}

async function gatewayMemory(metricsUrl: string): Promise<{ heapUsed: number; heapTotal: number; external: number } | null> {
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
    const prefix = 'tributary_gateway_nodejs_';
    return { heapUsed: metricTotal(text, `${prefix}heap_size_used_bytes`), heapTotal: metricTotal(text, `${prefix}heap_size_total_bytes`), external: metricTotal(text, `${prefix}external_memory_bytes`) };
  } catch {
    return null;
  }
}

export interface ConnectionSweepResult {
  runId: string;
  baselineRssMiB: number;
  steps: ConnectionStep[];
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Runs the sweep; `counts` are cumulative connection totals, ascending. */
export async function runConnectionSweep(options: {
  kafkaBrokers: readonly string[];
  counts: readonly number[];
  connectConcurrency: number;
  settleMs: number;
  logDir: string;
  gatewayEnv?: Record<string, string>;
  onProgress?: (line: string) => void;
}): Promise<ConnectionSweepResult> {
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const counts = [...options.counts].sort((a, b) => a - b);
  const total = counts.at(-1) ?? 0;
  const progress = options.onProgress ?? (() => undefined);
  const names = runNames(runId);
  const devicesTopic = names.devicesTopic;
  const logDir = join(options.logDir, runId);
  await mkdir(logDir, { recursive: true });
  const kafka = createKafkaAuditor(options.kafkaBrokers);
  const fleets: DeviceFleet[] = [];
  try {
    const credentials = createBenchCredentials(`conn-${runId}`, total);
    await kafka.ensureTopic(devicesTopic, 1, { 'cleanup.policy': 'compact' });
    await registerBenchDevices({ brokers: options.kafkaBrokers, devicesTopic, credentials });
    const [mqttPort, httpPort] = await Promise.all([freePort(), freePort()]);
    const gateway = await startPipelineProcess({
      name: 'gateway',
      command: 'gateway',
      env: gatewayEnv(names, { kafkaBrokers: options.kafkaBrokers, mqttPort, gatewayHttpPort: httpPort }, options.gatewayEnv),
      readyUrl: `http://127.0.0.1:${httpPort}/readyz`,
      logDir,
      readyTimeoutMs: 60_000,
    });
    try {
      await delay(options.settleMs);
      const baseline = (await readProcessUsage(gateway.pid))?.rssBytes ?? 0;
      progress(`gateway RSS with no connections: ${mib(baseline)} MiB`);
      const steps: ConnectionStep[] = [];
      let opened = 0;
      for (const count of counts) {
        const fleet = createDeviceFleet({
          url: `mqtt://127.0.0.1:${mqttPort}`,
          devices: credentials.slice(opened, count),
          topicPrefix: 'devices',
          qos: 1,
          v2Percent: 0,
          readings: 1,
          maxInflightPerDevice: 1,
          connectConcurrency: options.connectConcurrency,
          keepaliveS: 300,
          reconnect: false,
        });
        fleets.push(fleet);
        await fleet.connect();
        opened = count;
        await delay(options.settleMs);
        const usage = await readProcessUsage(gateway.pid);
        const self = await readProcessUsage(process.pid);
        const memory = await gatewayMemory(`http://127.0.0.1:${httpPort}/metrics`);
        const connected = fleets.reduce((sum, f) => sum + f.stats().connected, 0);
        const step: ConnectionStep = {
          connections: connected,
          connectMs: fleet.stats().connectMs,
          connectFailures: fleet.stats().connectFailures,
          gatewayRssMiB: mib(usage?.rssBytes ?? 0),
          gatewayPeakRssMiB: mib(usage?.peakRssBytes ?? 0),
          gatewayKiBPerConnection: connected > 0 ? Math.round(((usage?.rssBytes ?? 0) - baseline) / 1024 / connected) : 0,
          gatewayHeapUsedMiB: memory ? mib(memory.heapUsed) : null,
          gatewayHeapTotalMiB: memory ? mib(memory.heapTotal) : null,
          gatewayExternalMiB: memory ? mib(memory.external) : null,
          loadGeneratorRssMiB: mib(self?.rssBytes ?? 0),
        };
        steps.push(step);
        progress(`${step.connections} connections (+${count - (steps.at(-2)?.connections ?? 0)} in ${step.connectMs} ms): gateway RSS ${step.gatewayRssMiB} MiB (peak ${step.gatewayPeakRssMiB}), ${step.gatewayKiBPerConnection} KiB/connection; JS heap ${step.gatewayHeapUsedMiB ?? '?'} of ${step.gatewayHeapTotalMiB ?? '?'} MiB, external ${step.gatewayExternalMiB ?? '?'} MiB`);
      }
      return { runId, baselineRssMiB: mib(baseline), steps };
    } finally {
      await Promise.all(fleets.map((fleet) => fleet.close()));
      await gateway.stop();
    }
  } finally {
    // The run's topics go once the gateway stopped, as in bench e2e (ADR 0026).
    await kafka.deleteTopicsByPrefix(names.topicPrefix).catch((error: unknown) => progress(`could not remove the run's topics ${names.topicPrefix}*: ${String(error)}`));
    await kafka.close();
  }
}
