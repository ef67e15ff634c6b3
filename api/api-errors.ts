/**
 * How anything thrown while answering a request becomes a problem (RFC 9457): a route's
 * ProblemError as it is, schema validation errors as one 400 listing every problem with a JSON
 * pointer into the part of the request it is about, Fastify's own client errors (413, 415, bad
 * JSON) with their status, and anything else as a 500 that tells nothing of the internals. Pure.
 */
import { ProblemError, type ProblemInit, type ProblemItem } from './problem.ts';

/** The request parts a route schema validates, as Fastify names them. */
export const validatedParts = ['params', 'body', 'querystring', 'headers'] as const;
export type ValidatedPart = (typeof validatedParts)[number];

/** The parts of an ajv error this module reads. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const pointerRoots: Record<ValidatedPart, string> = { params: '/params', body: '/body', querystring: '/query', headers: '/headers' };

// RFC 6901: `~` and `/` inside a member name.
function escapePointer(name: string): string {
  return name.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** One ajv error as a problem item: `/body/partitions` must be integer; a missing member is pointed at itself. */
export function schemaProblem(part: ValidatedPart, error: SchemaError): ProblemItem {
  const member = (name: unknown): string => (typeof name === 'string' ? `/${escapePointer(name)}` : '');
  const pointer = pointerRoots[part] + error.instancePath;
  if (error.keyword === 'required') return { pointer: pointer + member(error.params.missingProperty), detail: 'is required' };
  if (error.keyword === 'additionalProperties') return { pointer: pointer + member(error.params.additionalProperty), detail: 'is not a known member' };
  return { pointer, detail: error.message ?? `fails ${error.keyword}` };
}

export function invalidRequest(problems: readonly ProblemItem[]): ProblemInit {
  const count = problems.length;
  return { status: 400, kind: 'invalid_request', title: 'The request is not valid', detail: `${count} problem${count === 1 ? '' : 's'} found; see problems`, problems };
}

const clientErrorKinds: Readonly<Record<number, { kind: string; title: string }>> = {
  400: { kind: 'invalid_request', title: 'The request is not valid' },
  404: { kind: 'not_found', title: 'Not found' },
  405: { kind: 'method_not_allowed', title: 'Method not allowed' },
  406: { kind: 'not_acceptable', title: 'Not acceptable' },
  408: { kind: 'request_timeout', title: 'Request timeout' },
  413: { kind: 'payload_too_large', title: 'The request body is too large' },
  415: { kind: 'unsupported_media_type', title: 'Unsupported media type' },
  429: { kind: 'rate_limited', title: 'Too many requests' },
  431: { kind: 'headers_too_large', title: 'Request headers too large' },
};

/** The 500 every unexpected error becomes: no message, stack or code of ours leaks. */
export const internalProblem: ProblemInit = { status: 500, kind: 'internal_error', title: 'Internal error', detail: 'the server failed to answer; the failure is in its log' };

/**
 * The problem an error thrown while answering becomes, and whether it was expected (a client error:
 * not logged as a failure of ours).
 */
export function problemOfError(error: unknown): { init: ProblemInit; expected: boolean } {
  if (error instanceof ProblemError) return { init: error.init, expected: error.init.status < 500 };
  if (typeof error !== 'object' || error === null) return { init: internalProblem, expected: false };
  const { statusCode, validation, validationContext, message } = error as { statusCode?: unknown; validation?: unknown; validationContext?: unknown; message?: unknown };
  if (Array.isArray(validation)) {
    const part = validatedParts.find((candidate) => candidate === validationContext) ?? 'body';
    return { init: invalidRequest((validation as SchemaError[]).map((item) => schemaProblem(part, item))), expected: true };
  }
  // Fastify's client errors (a body too large, bad JSON, an unsupported content type) say only what was wrong with the request.
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const known = clientErrorKinds[statusCode] ?? { kind: 'client_error', title: 'The request cannot be answered' };
    return { init: { status: statusCode, ...known, ...(typeof message === 'string' && { detail: message }) }, expected: true };
  }
  return { init: internalProblem, expected: false };
}
