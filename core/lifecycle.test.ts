import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { describeError } from './errors.ts';
import { createShutdown, runJob, runUntilSignal, type Lifecycle } from './lifecycle.ts';
import { silentLogger } from './logger.ts';
import { waitFor } from './wait-for.ts';

describe('createShutdown', () => {
  it('runs every step in order, reports all failures, and is memoised', async () => {
    const ran: string[] = [];
    const stop = createShutdown(() => [
      { name: 'listener', stop: () => void ran.push('listener') },
      {
        name: 'producer',
        stop: () => {
          ran.push('producer');
          throw new Error('flush failed');
        },
      },
      {
        name: 'consumer',
        stop: async () => {
          ran.push('consumer');
          await Promise.reject(new Error('close failed'));
        },
      },
      { name: 'http', stop: () => void ran.push('http') },
    ]);
    const first = stop();
    expect(stop()).toBe(first);
    await expect(first).rejects.toThrow(/producer: flush failed.*consumer: close failed/);
    expect(ran).toEqual(['listener', 'producer', 'consumer', 'http']);
  });
});

describe('runUntilSignal', () => {
  it('on a manual stop request: aborts the signal, drains, then resolves with the requested code', async () => {
    const events: string[] = [];
    let lifecycle: Lifecycle | undefined;
    const code = await runUntilSignal(
      (given) => {
        lifecycle = given;
        given.signal.addEventListener('abort', () => events.push(`aborted: ${describeError(given.signal.reason)}`));
        return {
          start: () => {
            setTimeout(() => given.requestStop('consumer crashed', 3), 5);
            return Promise.resolve();
          },
          stop: async () => {
            await delay(20);
            events.push('drained');
          },
        };
      },
      { logger: silentLogger(), shutdownDeadlineMs: 5000, onStarted: () => events.push('started') },
    );
    expect(code).toBe(3);
    expect(events).toEqual(['started', 'aborted: consumer crashed', 'drained']);
    expect(lifecycle?.signal.aborted).toBe(true);
  });

  it('takes the highest exit code requested, also during the drain, and 1 when the drain fails', async () => {
    const raised = await runUntilSignal(
      ({ requestStop }) => ({
        start: () => Promise.resolve(requestStop('finished', 0)),
        stop: () => Promise.resolve(requestStop('a late failure', 2)),
      }),
      { logger: silentLogger(), shutdownDeadlineMs: 5000 },
    );
    expect(raised).toBe(2);
    const failedDrain = await runUntilSignal(
      ({ requestStop }) => ({ start: () => Promise.resolve(requestStop('finished', 0)), stop: () => Promise.reject(new Error('flush failed')) }),
      { logger: silentLogger(), shutdownDeadlineMs: 5000 },
    );
    expect(failedDrain).toBe(1);
  });

  it('resolves 1 when the drain misses the deadline', async () => {
    const code = await runUntilSignal(
      ({ requestStop }) => ({ start: () => Promise.resolve(requestStop('finished', 0)), stop: () => new Promise<void>(() => {}) }),
      { logger: silentLogger(), shutdownDeadlineMs: 30 },
    );
    expect(code).toBe(1);
  });

  it('stops what started and resolves 1 when startup fails or a stop is requested during startup', async () => {
    let stops = 0;
    const failing = await runUntilSignal(() => ({ start: () => Promise.reject(new Error('port taken')), stop: () => Promise.resolve(void (stops += 1)) }), {
      logger: silentLogger(),
      shutdownDeadlineMs: 5000,
    });
    expect(failing).toBe(1);
    const interrupted = await runUntilSignal(
      ({ requestStop }) => ({
        start: () => {
          requestStop('supervisor exited', 0);
          return new Promise<void>(() => {});
        },
        stop: () => Promise.resolve(void (stops += 1)),
      }),
      { logger: silentLogger(), shutdownDeadlineMs: 5000 },
    );
    expect(interrupted).toBe(1);
    expect(stops).toBe(2);
  });
});

describe('runJob', () => {
  it('resolves with the job’s exit code', async () => {
    expect(await runJob(() => Promise.resolve(3), { logger: silentLogger(), shutdownDeadlineMs: 5000 })).toBe(3);
  });

  it('rethrows what the job threw, after the stop', async () => {
    await expect(runJob(() => Promise.reject(new Error('topic missing')), { logger: silentLogger(), shutdownDeadlineMs: 5000 })).rejects.toThrow('topic missing');
  });
});

/** Runs a module in its own Node process: vitest catches uncaught errors, and signals must reach a real process. */
function runScript(body: string): { child: ChildProcess; lines: () => Array<Record<string, unknown>>; exited: Promise<number | null> } {
  const lifecycleUrl = new URL('./lifecycle.ts', import.meta.url).href;
  const source = `import { pino } from 'pino';
import { runJob, runUntilSignal } from ${JSON.stringify(lifecycleUrl)};
const logger = pino({ level: 'info' }, pino.destination({ sync: true }));
const say = (event) => console.log(JSON.stringify({ event }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const lines = (): Array<Record<string, unknown>> =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { child, lines, exited };
}

const events = (lines: Array<Record<string, unknown>>): unknown[] => lines.map((line) => line.event ?? line.msg);
const started = (script: ReturnType<typeof runScript>): Promise<unknown> => waitFor(() => events(script.lines()).includes('started'), { description: 'the script to start', timeoutMs: 20_000, intervalMs: 20 });

describe('runUntilSignal in a process of its own', () => {
  const drainingService = `({
  start: async () => say('started'),
  stop: async () => { await sleep(50); say('drained'); },
})`;

  it.each([
    ['an uncaught exception', 'setTimeout(() => { throw new Error("boom"); }, 10);', 'uncaughtException'],
    ['an unhandled rejection', 'void Promise.reject(new Error("boom"));', 'unhandledRejection'],
  ])('on %s: logs it once, drains, and exits 1', async (_, fault, origin) => {
    const script = runScript(`process.exitCode = await runUntilSignal(() => ({
  start: async () => { say('started'); ${fault} },
  stop: async () => { await sleep(50); say('drained'); },
}), { logger, shutdownDeadlineMs: 5000 });
say('returned');`);
    expect(await script.exited).toBe(1);
    const lines = script.lines();
    const logged = lines.filter((line) => (line.err as { message?: string } | undefined)?.message === 'boom');
    expect(logged).toMatchObject([{ msg: 'uncaught error: shutting down', origin }]);
    expect(events(lines)).toEqual(['started', 'uncaught error: shutting down', 'shutting down', 'drained', 'stopped', 'returned']);
  });

  it('on SIGTERM: drains and exits 0; a second signal exits 130 at once', async () => {
    const graceful = runScript(`process.exitCode = await runUntilSignal(() => ${drainingService}, { logger, shutdownDeadlineMs: 5000 });`);
    await started(graceful);
    graceful.child.kill('SIGTERM');
    expect(await graceful.exited).toBe(0);
    expect(events(graceful.lines())).toEqual(['started', 'shutting down', 'drained', 'stopped']);

    const impatient = runScript(`process.exitCode = await runUntilSignal(() => ({ start: async () => say('started'), stop: () => sleep(30_000) }), { logger, shutdownDeadlineMs: 60_000 });`);
    await started(impatient);
    impatient.child.kill('SIGINT');
    await waitFor(() => events(impatient.lines()).includes('shutting down'), { description: 'the shutdown to begin', timeoutMs: 20_000, intervalMs: 20 });
    impatient.child.kill('SIGINT');
    expect(await impatient.exited).toBe(130);
  }, 60_000);

  it('a job sees its signal abort on SIGINT, winds down, and its exit code is kept', async () => {
    const script = runScript(`process.exitCode = await runJob(async (signal) => {
  say('started');
  await new Promise((resolve) => signal.addEventListener('abort', resolve));
  say(\`job aborted: \${signal.reason.message}\`);
  return 4;
}, { logger, shutdownDeadlineMs: 5000 });`);
    await started(script);
    script.child.kill('SIGINT');
    expect(await script.exited).toBe(4);
    expect(events(script.lines())).toEqual(['started', 'shutting down', 'job aborted: SIGINT', 'stopped']);
  }, 60_000);
});
