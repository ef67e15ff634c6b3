/**
 * Alerts derived from canonical rows: edge-triggered thresholds per device and metric, and silence
 * detection per device. Pure: time comes in through arguments (row time, `nowMs`); no timers.
 *
 * Thresholds compare the stored (canonical-unit) value, so `temperature>80` means 80 degC.
 */
import type { Result } from '../core/result.ts';
import { isValidMetricName, metricNameRule } from '../core/metric-grammar.ts';
import type { CanonicalRow } from './enrichment.ts';

export type AlertOperator = '>' | '>=' | '<' | '<=';

export interface AlertRule {
  metric: string;
  operator: AlertOperator;
  threshold: number;
}

export interface AlertEvent {
  kind: 'threshold_crossed' | 'threshold_cleared' | 'device_silent';
  deviceId: string;
  metric?: string;
  value?: number;
  threshold?: number;
  operator?: AlertOperator;
  /** Row time for threshold events; `nowMs` of the check for device_silent. */
  atMs: number;
  /** device_silent only: when the device was last heard (gateway receive time). */
  lastHeardMs?: number;
}

export interface AlertEvaluator {
  /** Events this row causes, in rule order; usually none. The returned array must not be modified. */
  onRow(row: CanonicalRow): readonly AlertEvent[];
  /** One device_silent event for each device not heard for `silenceAfterMs`, once until it is heard again. */
  checkSilence(nowMs: number): AlertEvent[];
}

export interface AlertEvaluatorOptions {
  /**
   * A device not heard from for this long (gateway receive time) is reported silent. Keep it well above
   * the consumer's normal lag, or a lagging worker reports devices silent that are not.
   */
  silenceAfterMs: number;
  /** Devices remembered at once; past it the least recently heard is forgotten. Default 100 000. */
  maxDevices?: number;
}

/** Reason codes from `parseAlertRules`. */
export const alertRuleRejections = {
  invalidAlertRule: 'invalid_alert_rule',
  duplicateAlertRule: 'duplicate_alert_rule',
} as const;

const rulePattern = /^([^<>=\s]+)\s*(>=|<=|>|<)\s*(\S+)$/;
// Plain decimal or exponent notation only: Number() alone would also accept '', '0x10' and 'Infinity'.
const numberPattern = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parse a comma-separated rule list such as `temperature>80,battery<10,pressure>=120000`.
 * An empty or blank spec means no rules. Errors name the rule's 1-based position and text.
 */
export function parseAlertRules(spec: string): Result<AlertRule[]> {
  if (spec.trim() === '') return { ok: true, value: [] };
  const rules: AlertRule[] = [];
  const parts = spec.split(',');
  for (let i = 0; i < parts.length; i++) {
    const text = (parts[i] as string).trim();
    const where = `rule ${i + 1} "${text}"`;
    const m = rulePattern.exec(text);
    if (m === null) {
      return {
        ok: false,
        reason: alertRuleRejections.invalidAlertRule,
        detail: `${where}: expected <metric><op><number> with op one of > >= < <=`,
      };
    }
    const metric = m[1] as string;
    const operator = m[2] as AlertOperator;
    const thresholdText = m[3] as string;
    if (!isValidMetricName(metric)) {
      return { ok: false, reason: alertRuleRejections.invalidAlertRule, detail: `${where}: metric must be ${metricNameRule}` };
    }
    const threshold = Number(thresholdText);
    if (!numberPattern.test(thresholdText) || !Number.isFinite(threshold)) {
      return { ok: false, reason: alertRuleRejections.invalidAlertRule, detail: `${where}: threshold "${thresholdText}" is not a finite number` };
    }
    if (rules.some((r) => r.metric === metric && r.operator === operator && r.threshold === threshold)) {
      return { ok: false, reason: alertRuleRejections.duplicateAlertRule, detail: `${where} is listed twice` };
    }
    rules.push({ metric, operator, threshold });
  }
  return { ok: true, value: rules };
}

function holds(operator: AlertOperator, value: number, threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

interface DeviceAlertState {
  lastHeardMs: number;
  silent: boolean;
  /** Per rule index: 1 while the device's metric is in the rule's alert condition. */
  active: Uint8Array;
}

const noEvents: readonly AlertEvent[] = Object.freeze([]);

/**
 * Create an evaluator. State is per process and starts empty: a device is known from its first row,
 * and a metric already in alert at startup reports one threshold_crossed on its first row.
 * Throws RangeError on nonsensical options (a programming or config error).
 */
export function createAlertEvaluator(ruleList: readonly AlertRule[], options: AlertEvaluatorOptions): AlertEvaluator {
  const rules = ruleList.map((rule) => ({ ...rule }));
  const { silenceAfterMs } = options;
  const maxDevices = options.maxDevices ?? 100_000;
  if (!(silenceAfterMs > 0) || !Number.isFinite(silenceAfterMs)) throw new RangeError('silenceAfterMs must be a positive number');
  if (!Number.isSafeInteger(maxDevices) || maxDevices < 1) throw new RangeError('maxDevices must be a positive integer');

  // metric → indexes into rules, so a row touches only its metric's rules.
  const rulesByMetric = new Map<string, number[]>();
  rules.forEach((rule, index) => {
    const list = rulesByMetric.get(rule.metric);
    if (list === undefined) rulesByMetric.set(rule.metric, [index]);
    else list.push(index);
  });
  const devices = new Map<string, DeviceAlertState>();
  let lastDeviceId: string | null = null;

  function stateFor(deviceId: string): DeviceAlertState {
    let state = devices.get(deviceId);
    if (state === undefined) {
      state = { lastHeardMs: Number.NEGATIVE_INFINITY, silent: false, active: new Uint8Array(rules.length) };
      devices.set(deviceId, state);
      if (devices.size > maxDevices) {
        // Insertion order with re-insert on touch: the first key is the least recently heard.
        const oldest = devices.keys().next().value;
        if (oldest !== undefined) devices.delete(oldest);
      }
    } else if (lastDeviceId !== deviceId) {
      devices.delete(deviceId);
      devices.set(deviceId, state);
    }
    lastDeviceId = deviceId;
    return state;
  }

  return {
    onRow(row) {
      const state = stateFor(row.device);
      // Only newer rows count as hearing from the device: a replayed old row must not end its silence.
      if (row.receivedAtMs > state.lastHeardMs) {
        state.lastHeardMs = row.receivedAtMs;
        state.silent = false;
      }
      const indexes = rulesByMetric.get(row.metric);
      if (indexes === undefined) return noEvents;
      let events: AlertEvent[] | null = null;
      for (const index of indexes) {
        const rule = rules[index] as AlertRule;
        const now = holds(rule.operator, row.value, rule.threshold) ? 1 : 0;
        if (now === state.active[index]) continue;
        state.active[index] = now;
        (events ??= []).push({
          kind: now === 1 ? 'threshold_crossed' : 'threshold_cleared',
          deviceId: row.device,
          metric: rule.metric,
          value: row.value,
          threshold: rule.threshold,
          operator: rule.operator,
          atMs: row.ts,
        });
      }
      return events ?? noEvents;
    },

    checkSilence(nowMs) {
      const events: AlertEvent[] = [];
      for (const [deviceId, state] of devices) {
        if (state.silent || nowMs - state.lastHeardMs < silenceAfterMs) continue;
        state.silent = true;
        events.push({ kind: 'device_silent', deviceId, atMs: nowMs, lastHeardMs: state.lastHeardMs });
      }
      return events;
    },
  };
}
