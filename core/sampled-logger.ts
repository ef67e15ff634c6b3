/**
 * Logs at most `perInterval` lines per key per interval and counts what it suppressed, so a
 * misbehaving device cannot flood the logs. Counting belongs in metrics; this is for the detail.
 */
import type { Logger } from './logger.ts';

export interface SampledLogger {
  warn(key: string, fields: Record<string, unknown>, message: string): void;
}

export function createSampledLogger(logger: Logger, options: { perInterval: number; intervalMs: number; now?: () => number }): SampledLogger {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { startedAt: number; logged: number; suppressed: number }>();
  return {
    warn(key, fields, message) {
      const at = now();
      let window = windows.get(key);
      if (!window || at - window.startedAt >= options.intervalMs) {
        if (window && window.suppressed > 0) logger.warn({ key, suppressed: window.suppressed }, 'suppressed similar log lines');
        window = { startedAt: at, logged: 0, suppressed: 0 };
        windows.set(key, window);
        if (windows.size > 10_000) windows.clear();
      }
      if (window.logged < options.perInterval) {
        window.logged += 1;
        logger.warn(fields, message);
      } else {
        window.suppressed += 1;
      }
    },
  };
}
