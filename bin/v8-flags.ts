/**
 * V8 flags for every Tributary process, set before any other module is evaluated: this is
 * bin/tributary.ts's first import, and ES modules evaluate their imports in order.
 *
 * `--no-allocation-site-pretenuring` (ADR 0024): V8 counts, per allocation site, how many of the
 * objects made there survive a scavenge and, past a threshold, allocates that site's objects in the
 * old generation from then on. A burst (a slow write, a large fetch) is enough to tip a per-record
 * site over; each record object is then born old, every scavenge counts it alive until the next
 * mark-compact, and so keeps and promotes all it points to (headers, Buffers, rows), though the
 * record died long before. The flag is a GC heuristic read at each scavenge, so setting it here,
 * after V8 has started, takes effect (docs/benchmarks/profiles.md has the measurements).
 */
import { setFlagsFromString } from 'node:v8';

export const v8Flags = ['--no-allocation-site-pretenuring'] as const;

for (const flag of v8Flags) setFlagsFromString(flag);
