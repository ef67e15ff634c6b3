/**
 * The console's calls to the API: the token the operator entered (kept in sessionStorage, so it
 * goes with the tab) sent as a bearer on every call, problem+json refusals turned into ApiProblem,
 * and the job stream read with fetch and a stream reader (EventSource cannot send Authorization).
 */
import { createEventStreamParser } from './event-stream.ts';

const tokenKey = 'tributary.console.token';

export function savedToken(): string | null {
  return sessionStorage.getItem(tokenKey);
}

export function saveToken(token: string): void {
  sessionStorage.setItem(tokenKey, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(tokenKey);
}

/** An RFC 9457 problem the API answered, or a failure to reach it (status 0). */
export interface ProblemBody {
  status: number;
  title: string;
  detail?: string;
  problems?: Array<{ pointer: string; detail: string }>;
}

export class ApiProblem extends Error {
  readonly problem: ProblemBody;
  constructor(problem: ProblemBody) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiProblem';
    this.problem = problem;
  }
}

/** Called when the API refuses the token (401): the console asks for another. */
let onUnauthorized: () => void = () => undefined;

export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return { accept: 'application/json', authorization: `Bearer ${savedToken() ?? ''}`, ...extra };
}

async function problemOf(response: Response): Promise<ApiProblem> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as Partial<ProblemBody>;
    return new ApiProblem({ ...body, status: response.status, title: body.title ?? response.statusText });
  } catch {
    return new ApiProblem({ status: response.status, title: response.statusText || 'request failed', detail: text.slice(0, 300) });
  }
}

/** Calls the API; resolves with the JSON body of a 2xx answer, rejects with ApiProblem otherwise. */
export async function callApi<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body === undefined ? extraHeaders : { 'content-type': 'application/json', ...extraHeaders }),
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new ApiProblem({ status: 0, title: 'The API did not answer', detail: String(error) });
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401) onUnauthorized();
    throw problem;
  }
  return (await response.json()) as T;
}

/** One line per problem: the title and detail, then each field's problem. */
export function describeProblem(error: unknown): string[] {
  if (!(error instanceof ApiProblem)) return [String(error)];
  const { status, title, detail, problems } = error.problem;
  const head = `${status > 0 ? `${status} ` : ''}${title}${detail !== undefined && detail !== title ? `: ${detail}` : ''}`;
  return [head, ...(problems ?? []).map((item) => `${item.pointer}: ${item.detail}`)];
}

/**
 * Reads GET /v1/jobs/stream until it ends or `signal` aborts, calling `onJob` with each `job`
 * event's job. Resolves when the stream ends; rejects with ApiProblem when it cannot be opened.
 */
export async function followJobStream<Job>(onJob: (job: Job) => void, signal: AbortSignal): Promise<void> {
  const response = await fetch('/v1/jobs/stream', { headers: headers({ accept: 'text/event-stream' }), signal });
  if (!response.ok || response.body === null) {
    const problem = await problemOf(response);
    if (response.status === 401) onUnauthorized();
    throw problem;
  }
  const feed = createEventStreamParser((event) => {
    if (event.event === 'job') onJob(JSON.parse(event.data) as Job);
  });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      feed(value);
    }
  } finally {
    reader.releaseLock();
  }
}
