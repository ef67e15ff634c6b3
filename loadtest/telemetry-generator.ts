/**
 * Simulated device payloads in the two telemetry schema versions (core/telemetry-payload.ts). Every
 * payload carries the device's seq and its send time (v1 `ts`, v2 `time`), which is what the
 * benchmark counts and times messages by. Built as strings: far cheaper than JSON.stringify.
 */

export type SchemaVersion = 1 | 2;

/** Metric names and units the simulator reports; every unit is one the enricher accepts. */
export const simulatedMetrics: ReadonlyArray<{ name: string; unit: string; base: number; spread: number }> = [
  { name: 'temperature', unit: 'degC', base: 18, spread: 10 },
  { name: 'humidity', unit: '%', base: 30, spread: 40 },
  { name: 'pressure', unit: 'hPa', base: 990, spread: 40 },
  { name: 'voltage', unit: 'V', base: 3.1, spread: 0.5 },
  { name: 'current', unit: 'A', base: 0.2, spread: 1 },
  { name: 'energy', unit: 'kWh', base: 100, spread: 50 },
  { name: 'speed', unit: 'm/s', base: 0, spread: 20 },
  { name: 'distance', unit: 'm', base: 0, spread: 500 },
];

/** Metric every payload starts with; the queryable-latency probe looks for this row. */
export const probeMetric = simulatedMetrics[0]!.name;

/**
 * Which schema a device speaks, so that `v2Percent` of the fleet (rounded) speaks v2, spread evenly
 * over the device indexes. A real device's firmware speaks one version.
 */
export function schemaVersionOf(deviceIndex: number, v2Percent: number): SchemaVersion {
  return Math.floor(((deviceIndex + 1) * v2Percent) / 100) > Math.floor((deviceIndex * v2Percent) / 100) ? 2 : 1;
}

/** The simulated values repeat every this many seqs (telemetry-encoder.ts pre-encodes one period). */
export const valuePeriod = 100;

function valueOf(metricIndex: number, seq: number): number {
  const metric = simulatedMetrics[metricIndex]!;
  // A slow saw-tooth: deterministic, so a replayed message carries the same values.
  return Math.round((metric.base + ((seq * (metricIndex + 3)) % valuePeriod) * (metric.spread / valuePeriod)) * 1000) / 1000;
}

/** One payload with `readings` metrics (1..8), for the given seq and send time. */
export function buildTelemetryPayload(version: SchemaVersion, seq: number, sentAtMs: number, readings: number): string {
  const count = Math.max(1, Math.min(simulatedMetrics.length, readings));
  if (version === 1) {
    let metrics = '';
    for (let i = 0; i < count; i += 1) metrics += `${i === 0 ? '' : ','}"${simulatedMetrics[i]!.name}":${valueOf(i, seq)}`;
    return `{"v":1,"ts":${sentAtMs},"seq":${seq},"metrics":{${metrics}}}`;
  }
  let list = '';
  for (let i = 0; i < count; i += 1) {
    const metric = simulatedMetrics[i]!;
    list += `${i === 0 ? '' : ','}{"name":"${metric.name}","value":${valueOf(i, seq)},"unit":"${metric.unit}"}`;
  }
  return `{"v":2,"time":"${new Date(sentAtMs).toISOString()}","seq":${seq},"readings":[${list}]}`;
}

const seqPattern = /"seq":(\d+)/;

/**
 * The seq of a payload without parsing all of it (the Kafka audit reads every record); null when
 * there is none. Only for payloads this module built, where `"seq":` occurs once.
 */
export function seqOfPayload(payload: Buffer | string): number | null {
  const text = typeof payload === 'string' ? payload : payload.toString('latin1');
  const match = seqPattern.exec(text);
  return match ? Number(match[1]) : null;
}
