/**
 * The outcome of checking input: bad input is data, not an exception. `reason` is a stable
 * machine-readable code (counted, dead-lettered); `detail` a short human explanation.
 */
export type Result<T> = { ok: true; value: T } | { ok: false; reason: string; detail?: string };
