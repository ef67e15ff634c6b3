/**
 * Conditional GET for cacheable read routes: a strong ETag (a hash of the exact response bytes) on
 * every 200, and 304 Not Modified with no body when the request's If-None-Match names it
 * (RFC 9110 §13.1.2, weak comparison). Used as a route's `onSend` hook, so the hash covers the body
 * after schema serialization, which is what the client stores.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A strong entity tag of a body. */
export function entityTag(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Whether an If-None-Match header value matches `etag` (any listed tag, weakly, or `*`). */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string): string => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** The `onSend` hook: adds the ETag to a 200 and turns it into a 304 when the client has it. */
export function conditionalGet(request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void {
  if (reply.statusCode !== 200 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) {
    done(null, payload);
    return;
  }
  const etag = entityTag(payload);
  void reply.header('etag', etag);
  if (ifNoneMatchMatches(request.headers['if-none-match'], etag)) {
    void reply.code(304);
    done(null, '');
    return;
  }
  done(null, payload);
}
