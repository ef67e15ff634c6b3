/**
 * Process lifecycle: ordered, memoised shutdown and signal handling with a deadline.
 *
 * Every component exposes `start()` / `stop()`. `createShutdown` runs stop steps in the given order,
 * tries every step even when one fails, reports all failures together, and returns the same promise
 * to every caller (stop is idempotent). `runUntilSignal` is used only by the entry point.
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

/**
 * Starts the service, then waits for SIGINT/SIGTERM and stops it within `shutdownDeadlineMs`.
 * A second signal, or a missed deadline, exits at once with a non-zero code.
 * Resolves with the exit code; the caller decides whether to call process.exit.
 */
export async function runUntilSignal(
  service: Service,
  options: { logger: Logger; shutdownDeadlineMs: number; onStarted?: () => void },
): Promise<number> {
  const { logger, shutdownDeadlineMs } = options;
  let signalled: (signal: NodeJS.Signals) => void = () => {};
  const signal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let received = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    received += 1;
    if (received > 1) {
      logger.warn({ signal: name }, 'second signal: exiting without finishing shutdown');
      process.exit(130);
    }
    signalled(name);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      await Promise.race([service.start(), signal.then((name) => Promise.reject(new Error(`${name} during startup`)))]);
    } catch (error) {
      logger.error({ err: error }, 'startup failed');
      await stopWithDeadline(service, logger, shutdownDeadlineMs);
      return 1;
    }
    options.onStarted?.();
    const name = await signal;
    logger.info({ signal: name }, 'shutting down');
    return (await stopWithDeadline(service, logger, shutdownDeadlineMs)) ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
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
