/**
 * A fast path for @questdb/nodejs-client's ILP name/value escaping.
 *
 * The client (4.2.0) escapes every table name, column name and symbol value by writing it one
 * character at a time, each a separate `Buffer.write` into its buffer. With eleven columns per
 * reading that was about a third of an enricher's CPU (profile in docs/benchmarks/history.md). Our
 * names and almost all values need no escaping at all, so they are written in one call when a single
 * regular expression finds nothing to escape; anything else takes the client's own per-character path, so
 * the bytes sent are the same either way (enrich/ilp-fast-escape.test.ts compares them).
 *
 * It wraps a method the client marks internal (docs/adr/0008-fast-ilp-escaping.md). If a client
 * upgrade renames it, nothing is patched and the client's own escaping runs unchanged: slower,
 * never wrong.
 */
import { SenderBufferV2 } from '@questdb/nodejs-client';

type Escape = (this: { write(data: string): void }, data: string, quoted?: boolean) => void;

// What the client escapes (index.mjs, writeEscaped): space, comma and equals outside quotes;
// double quote inside them; newline, carriage return and backslash everywhere.
const needsEscapeUnquoted = /[ ,=\n\r\\]/;
const needsEscapeQuoted = /["\n\r\\]/;

let original: Escape | null = null;

/** Installs the fast path once; returns the client's own escaping (for tests), or null if its shape changed. */
export function installFastIlpEscaping(): Escape | null {
  if (original !== null) return original;
  let owner: Record<string, unknown> | null = SenderBufferV2.prototype as unknown as Record<string, unknown>;
  while (owner !== null && !Object.hasOwn(owner, 'writeEscaped')) owner = Object.getPrototypeOf(owner) as Record<string, unknown> | null;
  const clientEscape = owner?.writeEscaped;
  if (owner === null || typeof clientEscape !== 'function' || typeof owner.write !== 'function') return null;
  original = clientEscape as Escape;
  const slow = original;
  const fast: Escape = function (data, quoted = false) {
    if ((quoted ? needsEscapeQuoted : needsEscapeUnquoted).test(data)) slow.call(this, data, quoted);
    else this.write(data);
  };
  owner.writeEscaped = fast;
  return original;
}
