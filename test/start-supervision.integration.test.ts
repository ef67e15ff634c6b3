/**
 * `tributary start` under a launcher, as `npm start` runs it: when the launcher is SIGKILLed the
 * supervisor stops everything itself; when the supervisor is SIGKILLed its gateway, enricher and
 * API stop by themselves; while one runs, a second start is refused with its pid. Uses the shared stack
 * (TRIBUTARY_KAFKA_BROKERS + TRIBUTARY_QUESTDB_URL), its own TRIBUTARY_HOME and ports off the defaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../core/wait-for.ts';
import { isPortFree } from '../infra/ports.ts';
import { createCleanups } from './cleanups.ts';
import { startEnrichHarness, type EnrichHarness } from './enrich-harness.ts';
import { testPortBase, testStackOffsets } from './test-stacks.ts';

const brokers = inject('kafkaBrokers');
const questdbHttpUrl = inject('questdbHttpUrl');
const questdbPgPort = inject('questdbPgPort');
const entryPoint = fileURLToPath(new URL('../bin/tributary.ts', import.meta.url));
const cleanups = createCleanups();
// Its own offset among the test stacks, below Linux's ephemeral range.
const portBase = testPortBase + testStackOffsets.supervision;
const ports = { mqtt: portBase, ws: portBase + 1, gatewayHttp: portBase + 2, enrichHttp: portBase + 3, api: portBase + 4 };
/** Children notice a SIGKILLed supervisor at once, a supervisor its launcher within a second; each then stops within its shutdown deadline. */
const goneWithinMs = 60_000;

afterEach(() => cleanups.runAll());

interface Launched {
  launcher: ChildProcess;
  output: () => string;
  /** The supervisor's, the gateway's, the enricher's and the API's pids, once all are running. */
  pids: { supervisor: number; gateway: number; enrich: number; api: number };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function launch(h: EnrichHarness, home: string): Promise<Launched> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...h.env(),
    TRIBUTARY_HOME: home,
    TRIBUTARY_MQTT_TCP_PORT: String(ports.mqtt),
    TRIBUTARY_MQTT_WS_PORT: String(ports.ws),
    TRIBUTARY_GATEWAY_HTTP_PORT: String(ports.gatewayHttp),
    TRIBUTARY_ENRICH_HTTP_PORT: String(ports.enrichHttp),
    TRIBUTARY_API_PORT: String(ports.api),
    TRIBUTARY_API_QUESTDB_PG_URL: `postgresql://admin:quest@127.0.0.1:${questdbPgPort}/qdb`,
    LOG_LEVEL: 'info',
  };
  // The launcher stands for npm: the supervisor's parent, which exits when the supervisor does.
  const launcherScript = "require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 1));";
  const launcher = spawn(process.execPath, ['-e', launcherScript, process.execPath, entryPoint, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  launcher.stdout?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  launcher.stderr?.on('data', (chunk: Buffer) => void (output += chunk.toString()));
  cleanups.add(async () => {
    // Children first: a SIGKILLed supervisor's children stop by themselves, but not within this cleanup.
    for (const pid of [...Object.values(pidsOf(output)), launcher.pid]) if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  await waitFor(() => output.includes('Tributary is running'), {
    description: 'tributary start to report running',
    timeoutMs: 120_000,
    intervalMs: 200,
    hopeless: () => (launcher.exitCode === null ? null : 'the launcher exited'),
    lastSeen: () => output.slice(-2000),
  });
  const { gateway, enrich, api } = pidsOf(output);
  const { pid: supervisor } = JSON.parse(await readFile(join(home, 'start.json'), 'utf8')) as { pid: number };
  if (gateway === undefined || enrich === undefined || api === undefined) throw new Error(`no gateway, enricher or API pid in the output:\n${output}`);
  return { launcher, output: () => output, pids: { supervisor, gateway, enrich, api } };
}

/** The gateway's, the enricher's and the API's pids, from their JSON log lines. */
function pidsOf(output: string): { gateway?: number; enrich?: number; api?: number } {
  const pids: { gateway?: number; enrich?: number; api?: number } = {};
  for (const line of output.split('\n')) {
    const pid = /"pid":(\d+),"name":"tributary-(gateway|enrich|api)"/.exec(line);
    if (pid?.[1] !== undefined && pid[2] !== undefined) pids[pid[2] as 'gateway' | 'enrich' | 'api'] = Number(pid[1]);
  }
  return pids;
}

async function expectAllGone(pids: readonly number[], what: string, output: () => string): Promise<void> {
  await waitFor(async () => pids.every((pid) => !isAlive(pid)) && (await Promise.all(Object.values(ports).map((port) => isPortFree('127.0.0.1', port)))).every(Boolean), {
    description: `${what}: processes ${pids.join(', ')} gone and ports ${Object.values(ports).join(', ')} free`,
    timeoutMs: goneWithinMs,
    intervalMs: 200,
    lastSeen: () => `alive: ${pids.filter(isAlive).join(', ') || 'none'}; output ${output().slice(-1500)}`,
  });
}

describe('tributary start supervision', () => {
  it('stops everything when its launcher is SIGKILLed or it is SIGKILLed itself, and refuses a second start while one runs', async () => {
    const h = await startEnrichHarness({ brokers, questdbHttpUrl, telemetryPartitions: 1 });
    cleanups.add(() => h.close());
    const home = await mkdtemp(join(tmpdir(), 'tributary-start-'));
    cleanups.add(() => rm(home, { recursive: true, force: true }));

    const first = await launch(h, home);
    const second = spawn(process.execPath, [entryPoint, 'start'], { env: { PATH: process.env.PATH ?? '', ...h.env(), TRIBUTARY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let refusal = '';
    second.stderr.on('data', (chunk: Buffer) => void (refusal += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect(code).toBe(1);
    expect(refusal).toContain(`another \`tributary start\` is running (pid ${first.pids.supervisor}`);
    expect(refusal).toContain(`MQTT TCP ${ports.mqtt}`);

    // npm SIGKILLed: the supervisor sees its parent change and stops in order, as on Ctrl-C.
    first.launcher.kill('SIGKILL');
    await expectAllGone(Object.values(first.pids), 'launcher SIGKILLed', first.output);
    expect(first.output()).toContain(`"reason":"launcher ${first.launcher.pid} exited"`);
    await expect(readFile(join(home, 'start.json'), 'utf8')).rejects.toThrow(/ENOENT/);

    // The supervisor SIGKILLed: its children see the IPC channel close and stop by themselves.
    const again = await launch(h, home);
    process.kill(again.pids.supervisor, 'SIGKILL');
    await expectAllGone([again.pids.gateway, again.pids.enrich, again.pids.api], 'supervisor SIGKILLed', again.output);
    expect(again.output()).toContain(`"reason":"supervisor ${again.pids.supervisor} exited"`);
    again.launcher.kill('SIGKILL');
  }, 300_000);
});
