/** Routes kafkajs' own log lines into our pino logger instead of its console JSON. */
import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../core/logger.ts';

export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      // kafkajs logs every retriable protocol error at ERROR; we surface failures through our own
      // metrics and errors, so its lines go one level down.
      if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(fields, `kafkajs: ${message}`);
      else if (level === logLevel.INFO) logger.debug(fields, `kafkajs: ${message}`);
    };
}
