/**
 * The one rule for metric names and units, shared by every place that checks them: the telemetry payload decoder,
 * the device registry record and the enricher's alert rules. A name one of them accepts is never refused by another,
 * so a registry entry or an alert rule cannot target a metric no message can carry.
 */

/** Longest metric name accepted. */
const maxMetricNameLength = 64;

/** Longest unit string accepted. */
export const maxUnitLength = 32;

/** The metric-name rule in words, for error messages. */
export const metricNameRule = `1..${maxMetricNameLength} of [A-Za-z0-9_.-]`;

const metricNamePattern = new RegExp(`^[A-Za-z0-9_.-]{1,${maxMetricNameLength}}$`);

/** Whether `name` is an acceptable metric name: 1..64 of [A-Za-z0-9_.-]. */
export function isValidMetricName(name: string): boolean {
  return metricNamePattern.test(name);
}

/**
 * Whether `unit` is an acceptable unit string: 1..32 characters, any of them (units are spelled `°C`, `m/s`, `%`).
 * Whether the enricher can convert it is a separate question (enrich/units.ts); an empty unit in a payload means
 * the reading has none, and the decoder turns it into null before this rule applies.
 */
export function isValidUnit(unit: string): boolean {
  return unit.length > 0 && unit.length <= maxUnitLength;
}
