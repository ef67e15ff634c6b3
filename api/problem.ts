/**
 * Problem details (RFC 9457) for every refused API request: one shape for bad input, auth, unknown
 * resources, conflicts, range limits and rate limits. A route throws `problem(...)`; the server's
 * error handler writes it as `application/problem+json` with the status and any headers it carries.
 */

/** One thing wrong with a request: where (a JSON pointer into the body, or `query.from`) and what. */
export interface ProblemItem {
  pointer: string;
  detail: string;
}

export interface ProblemInit {
  status: number;
  /** Short, the same for every occurrence of this kind of problem. */
  title: string;
  /** What was wrong with this request. */
  detail?: string;
  /** A stable machine-readable kind, e.g. `invalid_request`, `unknown_device`; becomes the `type` URI. */
  kind: string;
  /** Every problem found, for 400 and 422. */
  problems?: readonly ProblemItem[];
  /** Response headers, e.g. Retry-After on 429. */
  headers?: Readonly<Record<string, string>>;
  /** Extra members of the body (RFC 9457 §3.2 extension members). */
  extensions?: Readonly<Record<string, unknown>>;
}

export class ProblemError extends Error {
  readonly init: ProblemInit;
  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.name = 'ProblemError';
    this.init = init;
  }
}

export function problem(init: ProblemInit): ProblemError {
  return new ProblemError(init);
}

export const problemContentType = 'application/problem+json';

/** The `type` URI of a problem kind: relative to the API, documented in the OpenAPI description. */
export function problemType(kind: string): string {
  return `/problems/${kind}`;
}

/** The response body of a problem (RFC 9457 §3.1 members, then ours). */
export function problemBody(init: ProblemInit, instance: string): Record<string, unknown> {
  return {
    type: problemType(init.kind),
    title: init.title,
    status: init.status,
    ...(init.detail !== undefined && { detail: init.detail }),
    instance,
    ...(init.problems !== undefined && { problems: init.problems }),
    ...init.extensions,
  };
}
