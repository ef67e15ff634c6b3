/**
 * Process lifecycle: ordered, memoised shutdown and signal handling with a deadline.
 *
 * Every component exposes `start()` / `stop()`. `createShutdown` runs stop steps in the given order,
 * tries every step even when one fails, reports all failures together, and returns the same promise
 * to every caller (stop is idempotent). `runUntilSignal` (and `runJob` on top of it) is used only by
 * the entry point: every long-running command runs through it.
 */
import type { Logger } from './logger.ts';
import { describeError } from './errors.ts';

export interface StopStep {
  name: string;
  stop: () => Promise<void> | void;
}

export function createShutdown(steps: () => readonly StopStep[]): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => {
    done ??= (async () => {
      const failures: Error[] = [];
      for (const step of steps()) {
        try {
          await step.stop();
        } catch (error) {
          failures.push(new Error(`${step.name}: ${describeError(error)}`, { cause: error }));
        }
      }
      if (failures.length > 0) {
        throw new AggregateError(failures, `shutdown failed: ${failures.map((f) => f.message).join('; ')}`);
      }
    })();
    return done;
  };
}

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What `runUntilSignal` hands to the composition of the service it runs. */
export interface Lifecycle {
  /** Aborted when stopping begins, whatever the cause; its reason is an Error naming the cause. Loops and waits take it. */
  signal: AbortSignal;
  /**
   * Begins the same ordered shutdown as SIGTERM, from inside the process: a consumer that crashed
   * for good, a supervisor that is gone, a job that finished. The exit code is the highest one
   * requested (a signal requests 0, an uncaught error 1), and at least 1 if the shutdown fails.
   * A request after stopping began only raises the exit code.
   */
  requestStop: (reason: string, exitCode: number) => void;
}

export interface RunOptions {
  logger: Logger;
  shutdownDeadlineMs: number;
}

/**
 * Composes the service with a `Lifecycle`, starts it, and stops it within `shutdownDeadlineMs` on
 * the first of: SIGINT/SIGTERM, `requestStop`, or an uncaught exception / unhandled rejection (logged
 * once, here; the exit code becomes 1). A second signal, or a missed deadline, exits non-zero:
 * a second signal ends the process at once with 130, a missed deadline resolves 1. A stop that
 * begins during startup, or a failed startup, also resolves 1. Resolves with the exit code; the
 * caller decides whether to call process.exit.
 */
export async function runUntilSignal<S extends Service>(
  compose: (lifecycle: Lifecycle) => S,
  options: RunOptions & { onStarted?: (service: S) => void },
): Promise<number> {
  const { logger, shutdownDeadlineMs } = options;
  const stopping = new AbortController();
  let exitCode = 0;
  const requestStop = (reason: string, code: number): void => {
    exitCode = Math.max(exitCode, code);
    if (!stopping.signal.aborted) stopping.abort(Object.assign(new Error(reason), { name: 'StopRequested' }));
  };
  const stopRequested = new Promise<string>((resolve) => stopping.signal.addEventListener('abort', () => resolve(describeError(stopping.signal.reason)), { once: true }));
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal: name }, 'second signal: exiting without finishing shutdown');
      process.exit(130);
    }
    requestStop(name, 0);
  };
  const onUncaught = (error: unknown, origin: string): void => {
    logger.error({ err: error, origin }, stopping.signal.aborted ? 'uncaught error while stopping' : 'uncaught error: shutting down');
    requestStop(origin, 1);
  };
  const onRejection = (reason: unknown): void => onUncaught(reason, 'unhandledRejection');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  try {
    const service = compose({ signal: stopping.signal, requestStop });
    try {
      await Promise.race([service.start(), stopRequested.then((reason) => Promise.reject(new Error(`${reason} during startup`)))]);
    } catch (error) {
      if (stopping.signal.aborted) logger.warn({ reason: describeError(stopping.signal.reason) }, 'stopping during startup');
      else logger.error({ err: error }, 'startup failed');
      await stopWithDeadline(service, logger, shutdownDeadlineMs);
      return 1;
    }
    options.onStarted?.(service);
    // Signal listeners do not keep Node running: a service idle between events must still wait here.
    const keepAlive = setInterval(() => {}, 2 ** 30);
    const reason = await stopRequested;
    clearInterval(keepAlive);
    logger.info({ reason }, 'shutting down');
    const stopped = await stopWithDeadline(service, logger, shutdownDeadlineMs);
    return stopped ? exitCode : Math.max(exitCode, 1);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
  }
}

/**
 * Runs a job that ends by itself (a replay, a benchmark) through `runUntilSignal`: the job gets the
 * lifecycle's signal, which aborts on a signal or an uncaught error; the job then winds down within
 * the deadline. Resolves with the job's exit code (1 if it never ended), raised to 1 when the stop
 * failed or came from an uncaught error. A job that throws rethrows here, for the caller to report.
 */
export async function runJob(job: (signal: AbortSignal) => Promise<number>, options: RunOptions): Promise<number> {
  let outcome = { code: 1 } as { code: number } | { error: unknown };
  let ended = Promise.resolve();
  const code = await runUntilSignal(
    ({ signal, requestStop }) => ({
      start() {
        ended = job(signal)
          .then(
            (jobCode) => void (outcome = { code: jobCode }),
            (error: unknown) => void (outcome = { error }),
          )
          .finally(() => requestStop('job ended', 0));
        return Promise.resolve();
      },
      stop: () => ended,
    }),
    options,
  );
  if ('error' in outcome) throw outcome.error;
  return Math.max(code, outcome.code);
}

async function stopWithDeadline(service: Service, logger: Logger, deadlineMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  try {
    const outcome = await Promise.race([service.stop().then(() => 'stopped' as const), deadline]);
    if (outcome === 'deadline') {
      logger.error({ deadlineMs }, 'shutdown deadline passed');
      return false;
    }
    logger.info('stopped');
    return true;
  } catch (error) {
    logger.error({ err: error }, 'shutdown finished with errors');
    return false;
  } finally {
    clearTimeout(timer);
  }
}
