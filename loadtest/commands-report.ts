/** The printed report of `tributary bench commands`: one column per phase. Pure. */
import type { CommandsBenchResult, CommandsPhaseResult } from './commands-bench.ts';

const dash = '-';

function cpuCell(phase: CommandsPhaseResult, name: string): string {
  const usage = phase.processes.find((process) => process.name === name);
  return usage ? `${usage.cpuSeconds.toFixed(2)} s (${usage.cpuCores.toFixed(2)} cores)` : dash;
}

function rssCell(phase: CommandsPhaseResult, name: string): string {
  const usage = phase.processes.find((process) => process.name === name);
  return usage ? `${usage.peakRssMiB} MiB` : dash;
}

export function formatCommandsReport(result: CommandsBenchResult): string {
  const { connected: c, offline: o } = result;
  const seconds = (ms: number | null): string => (ms === null ? 'not all' : (ms / 1000).toFixed(2));
  const latency = (phase: CommandsPhaseResult): string => {
    const l = phase.latencyMs;
    return `${l.p50Ms.toFixed(1)} / ${l.p95Ms.toFixed(1)} / ${l.p99Ms.toFixed(1)} / ${l.maxMs.toFixed(1)}`;
  };
  const names = [...new Set([...c.processes, ...o.processes].map((process) => process.name))];
  const rows: Array<[string, string, string]> = [
    ['commands', String(c.commands), String(o.commands)],
    ['produce, acks=all (ms)', String(c.produceMs), String(o.produceMs)],
    ['all queued in sessions (s)', dash, seconds(o.queuedMs)],
    ['not queued', dash, String(o.notQueued)],
    ['reconnect: session present / failed', dash, `${o.sessionsPresent} / ${o.reconnectFailures}`],
    ['received', String(c.received), String(o.received)],
    ['lost', String(c.lost), String(o.lost)],
    ['duplicates (with DUP flag)', `${c.duplicates} (${c.duplicatesFlaggedDup})`, `${o.duplicates} (${o.duplicatesFlaggedDup})`],
    ['received by another device', String(c.crossed), String(o.crossed)],
    ['PUBACKs counted by the gateway', String(c.deliveredByGateway), String(o.deliveredByGateway)],
    ['command events written', String(c.commandEvents), String(o.commandEvents)],
    ['latency p50/p95/p99/max (ms)', latency(c), latency(o)],
    ['all received (s)', seconds(c.allReceivedMs), seconds(o.allReceivedMs)],
    ['received per second', String(c.receivedPerSec ?? dash), String(o.receivedPerSec ?? dash)],
    ...names.map((name): [string, string, string] => [`CPU ${name}`, cpuCell(c, name), cpuCell(o, name)]),
    ...names.filter((name) => name === 'gateway' || name === 'redis').map((name): [string, string, string] => [`peak RSS ${name}`, rssCell(c, name), rssCell(o, name)]),
  ];
  const width = Math.max(...rows.map((row) => row[0].length));
  const column = Math.max(20, ...rows.map((row) => row[1].length)) + 2;
  const table = [
    `${''.padEnd(width)}  ${'connected fan-out'.padEnd(column)}offline → reconnect`,
    ...rows.map(([label, first, second]) => `${label.padEnd(width)}  ${first.padEnd(column)}${second}`),
  ];
  const gateway = result.gatewayDeliveryLatency;
  return [
    `commands bench ${result.runId}: ${result.options.devices} devices, sessions in ${result.sessionStore}, commit ${result.commit ?? '?'}, ${result.startedAt}`,
    `command: ${result.commandLine ?? '?'}`,
    `load average (1/5/15 min) before ${result.loadAverage.before.join(' ')}, after ${result.loadAverage.after.join(' ')}; ${result.machine.cpus} CPUs, shared machine`,
    `connect: ${result.connect.connected} connected and subscribed in ${(result.connect.ms / 1000).toFixed(1)} s (${result.connect.failures} failed); gateway RSS ${result.connect.gatewayRssMiB} MiB${result.connect.redisRssMiB === null ? '' : `, Redis RSS ${result.connect.redisRssMiB} MiB`}`,
    `reconnect rate ${result.options.reconnectRatePerSec}/s; latency: connected = produce call → at the device, offline = reconnect started → at the device`,
    '',
    ...table,
    '',
    `gateway's own issued → PUBACK (connected phase, bucket bounds): p50 ≤ ${gateway?.p50BoundMs ?? '?'} ms, p99 ≤ ${gateway?.p99BoundMs ?? '?'} ms`,
    result.problems.length === 0 ? 'problems: none' : `problems:\n  ${result.problems.join('\n  ')}`,
  ].join('\n');
}
