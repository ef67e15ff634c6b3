/** The kafkajs client behind the consumer, follower, range reader and admin: its connection settings live here only. */
import { Kafka } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { stopKafkajsIdleLoop } from './kafkajs-idle-loop.ts';
import { kafkajsLogCreator } from './kafkajs-logging.ts';
import { useFastRecordDecoder } from './kafkajs-record-decoder.ts';

let decoderReported = false;

export function createKafkajsClient(options: { brokers: readonly string[]; clientId: string; logger: Logger }): Kafka {
  stopKafkajsIdleLoop();
  const decoding = useFastRecordDecoder();
  if (decoding !== 'patched' && !decoderReported) {
    decoderReported = true;
    options.logger.warn({ decoding }, "kafkajs decodes consumed records with its own, slower decoder (ADR 0022)");
  }
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logCreator: kafkajsLogCreator(options.logger),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
  });
}
