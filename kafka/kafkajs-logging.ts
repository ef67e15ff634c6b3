/** Routes kafkajs' own log lines into our pino logger instead of its console JSON. */
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../core/logger.ts';

export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      // kafkajs logs every retriable protocol error at ERROR and expected conditions at WARN; we
      // surface failures through our own errors, metrics and readiness, so its lines go one level down.
      if (level === logLevel.ERROR) logger.warn(fields, `kafkajs: ${message}`);
      else logger.debug(fields, `kafkajs: ${message}`);
    };
}
