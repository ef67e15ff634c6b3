/**
 * V8 flags for the services whose objects live per message and briefly: the gateway and the
 * enricher (ADR 0024). bin/tributary.ts sets them before it loads either command.
 *
 * `--no-allocation-site-pretenuring`: V8 counts, per allocation site, how many of the objects made
 * there survive a scavenge and, past a threshold, allocates that site's objects in the old
 * generation from then on. A burst (a slow write, a large fetch) is enough to tip a per-record site
 * over; each record object is then born old, every scavenge counts it alive until the next
 * mark-compact, and so keeps and promotes all it points to (headers, Buffers, rows) long after the
 * record died. Not for the benchmark's load generator: it keeps an entry per message for the whole
 * run, which is what pretenuring is for, and its latencies came out worse without it. The flag is a
 * GC heuristic read at each scavenge, so setting it after V8 has started takes effect
 * (docs/benchmarks/profiles.md has the measurements).
 */
import { setFlagsFromString } from 'node:v8';

export const serviceV8Flags = ['--no-allocation-site-pretenuring'] as const;

export function useServiceV8Flags(): void {
  for (const flag of serviceV8Flags) setFlagsFromString(flag);
}
