/**
 * The root logger: pino, JSON lines to stdout. Only the entry point creates it; components get a
 * child (`logger.child({ component: 'gateway' })`). Set LOG_LEVEL=debug for per-batch detail.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export function createLogger(options: { level: string; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    { level: options.level, name: options.name, base: { pid: process.pid } },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** A logger that drops everything; for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
