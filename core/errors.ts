/**
 * Error kinds shared by all services.
 * - ConfigError: the process cannot start; lists every problem at once.
 * - InfraError: a dependency (Kafka, QuestDB, the network) failed. Wrapped once at the adapter
 *   boundary, with a stable code and whether retrying may help.
 * Programming errors stay plain Errors and are never retried.
 */
/** The process cannot start: `problems` lists every configuration problem found, not only the first. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Every InfraError code: a closed set, so a misspelt code fails the type check. */
export type InfraErrorCode =
  /** A send was not acknowledged by Kafka (the batch failed). */
  | 'KAFKA_SEND_FAILED'
  /** A record was not acknowledged within the send timeout. */
  | 'KAFKA_SEND_TIMEOUT'
  /** Kafka answered a send without acknowledging every partition it was sent to. */
  | 'KAFKA_PARTITION_NOT_ACKNOWLEDGED'
  /** The topic has no partitions (it does not exist, or its metadata is not there yet). */
  | 'KAFKA_UNKNOWN_TOPIC'
  /** A record is larger than the topic takes in one record batch (max.message.bytes): it can never be written. */
  | 'KAFKA_RECORD_TOO_LARGE'
  /** The producer's send queue holds as many records or bytes as it may, and the record was one it may shed. */
  | 'KAFKA_QUEUE_FULL'
  /** The producer is stopping and takes no more records. */
  | 'KAFKA_PRODUCER_STOPPED'
  /** The producer client reported an error it cannot recover from. */
  | 'KAFKA_PRODUCER_FATAL'
  /** The client could not connect to the brokers. */
  | 'KAFKA_CONNECT_FAILED'
  /** Disconnecting from the brokers failed. */
  | 'KAFKA_DISCONNECT_FAILED'
  /** A consumer group's offset commit failed. */
  | 'KAFKA_COMMIT_FAILED'
  /** The consumer group rebalanced (or the consumer stopped) while a batch was in hand: the batch is the next owner's. */
  | 'KAFKA_REBALANCED'
  /** Redis did not answer (the gateway's session store). */
  | 'REDIS_UNAVAILABLE'
  /** QuestDB did not answer, or answered with an error status. */
  | 'QUESTDB_UNAVAILABLE'
  /** QuestDB did not take a batch of rows. */
  | 'QUESTDB_WRITE_FAILED';

/** A dependency failed: `code` says which way, `retriable` whether trying again may help. */
export class InfraError extends Error {
  readonly code: InfraErrorCode;
  readonly retriable: boolean;
  constructor(code: InfraErrorCode, message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'InfraError';
    this.code = code;
    this.retriable = options.retriable;
  }
}

/** Whether trying again may help: only an InfraError that says so. */
export function isRetriable(error: unknown): boolean {
  return error instanceof InfraError && error.retriable;
}

/** A message for logs and CLI output from anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
