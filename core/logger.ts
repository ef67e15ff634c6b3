/**
 * The root logger: pino, JSON lines to stdout for services. Only the entry point creates it;
 * components get a child (`logger.child({ component: 'gateway' })`). Set LOG_LEVEL=debug for
 * per-batch detail. One-shot commands whose stdout is their answer (`tokens create --json`,
 * `replay --json`) log to stderr (`to: 'stderr'`), so a warning never lands inside that answer.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(options: { level: string; name?: string; to?: 'stdout' | 'stderr'; destination?: pino.DestinationStream }): Logger {
  return pino(
    { level: options.level, name: options.name, base: { pid: process.pid } },
    options.destination ?? pino.destination({ fd: options.to === 'stderr' ? 2 : 1, sync: false }),
  );
}

/** A logger that drops everything; for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
