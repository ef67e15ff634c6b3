/**
 * Error kinds shared by all services.
 * - ConfigError: the process cannot start; lists every problem at once.
 * - InfraError: a dependency (Kafka, QuestDB, the network) failed. Wrapped once at the adapter
 *   boundary, with a stable code and whether retrying may help.
 * Programming errors stay plain Errors and are never retried.
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class InfraError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  constructor(code: string, message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'InfraError';
    this.code = code;
    this.retriable = options.retriable;
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof InfraError && error.retriable;
}

/** A message for logs and CLI output from anything thrown. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
