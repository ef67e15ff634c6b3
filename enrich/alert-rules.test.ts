import { describe, expect, it } from 'vitest';
import { alertRuleRejections, createAlertEvaluator, parseAlertRules, type AlertEvent, type AlertRule } from './alert-rules.ts';
import type { CanonicalRow } from './enrichment.ts';

const t0 = Date.UTC(2025, 5, 1, 12, 0, 0);

function rules(spec: string): AlertRule[] {
  const result = parseAlertRules(spec);
  if (!result.ok) throw new Error(`expected rules, got ${result.reason}: ${result.detail ?? ''}`);
  return result.value;
}

function row(device: string, metric: string, value: number, atMs: number): CanonicalRow {
  return { ts: atMs, tsSource: 'device', receivedAtMs: atMs, device, site: 's', model: 'm', metric, value, unit: '', seq: 0 };
}

function kinds(events: readonly AlertEvent[]): string[] {
  return events.map((e) => `${e.kind}:${e.deviceId}${e.metric === undefined ? '' : `:${e.metric}${e.operator ?? ''}${e.threshold ?? ''}`}`);
}

describe('parseAlertRules', () => {
  it('parses metric, operator and threshold, tolerating spaces', () => {
    expect(rules('temperature>80, battery < 10,pressure>=120000,level<=-2.5e1')).toEqual([
      { metric: 'temperature', operator: '>', threshold: 80 },
      { metric: 'battery', operator: '<', threshold: 10 },
      { metric: 'pressure', operator: '>=', threshold: 120000 },
      { metric: 'level', operator: '<=', threshold: -25 },
    ]);
  });

  it('reads an empty or blank spec as no rules', () => {
    expect(rules('')).toEqual([]);
    expect(rules('   ')).toEqual([]);
  });

  it('allows several rules on one metric', () => {
    expect(rules('temperature>80,temperature<-10')).toHaveLength(2);
  });

  it('refuses malformed rules with the position and text in the detail', () => {
    const cases: Array<[string, string]> = [
      ['temperature=>80', 'rule 1 "temperature=>80"'],
      ['temperature>80,,battery<10', 'rule 2 ""'],
      ['temperature>80,', 'rule 2 ""'],
      ['temperature==80', 'rule 1'],
      ['temperature!80', 'rule 1'],
      ['>80', 'rule 1'],
      ['temperature>', 'rule 1'],
      ['temp erature>80', 'rule 1'],
      ['temp/x>80', 'metric must be'],
      ['temperature>hot', 'threshold "hot"'],
      ['temperature>0x50', 'threshold "0x50"'],
      ['temperature>Infinity', 'threshold "Infinity"'],
      ['temperature>1e400', 'threshold "1e400"'],
      ['temperature>80 90', 'rule 1'],
    ];
    for (const [spec, detail] of cases) {
      const result = parseAlertRules(spec);
      expect(result, spec).toMatchObject({ ok: false, reason: alertRuleRejections.invalidAlertRule });
      expect(!result.ok && result.detail, spec).toContain(detail);
    }
  });

  it('refuses an exact duplicate rule', () => {
    expect(parseAlertRules('battery<10,battery < 10.0')).toMatchObject({ ok: false, reason: alertRuleRejections.duplicateAlertRule });
  });
});

describe('createAlertEvaluator thresholds', () => {
  it('emits only when the value crosses into the condition, and cleared when it crosses back', () => {
    const evaluator = createAlertEvaluator(rules('temperature>80'), { silenceAfterMs: 60_000 });
    const out = [70, 85, 90, 81, 80, 75, 95].map((v, i) => kinds(evaluator.onRow(row('a', 'temperature', v, t0 + i))));
    expect(out).toEqual([
      [],
      ['threshold_crossed:a:temperature>80'],
      [],
      [],
      ['threshold_cleared:a:temperature>80'], // 80 is not > 80
      [],
      ['threshold_crossed:a:temperature>80'],
    ]);
  });

  it('fills the event with the value, threshold, operator and row time', () => {
    const evaluator = createAlertEvaluator(rules('battery<=10'), { silenceAfterMs: 60_000 });
    expect(evaluator.onRow(row('a', 'battery', 10, t0))).toEqual([
      { kind: 'threshold_crossed', deviceId: 'a', metric: 'battery', value: 10, threshold: 10, operator: '<=', atMs: t0 },
    ]);
  });

  it('reports a metric already in alert on its first row', () => {
    const evaluator = createAlertEvaluator(rules('battery<10'), { silenceAfterMs: 60_000 });
    expect(kinds(evaluator.onRow(row('a', 'battery', 3, t0)))).toEqual(['threshold_crossed:a:battery<10']);
  });

  it('keeps state per device and per rule', () => {
    const evaluator = createAlertEvaluator(rules('temperature>80,temperature>100'), { silenceAfterMs: 60_000 });
    expect(kinds(evaluator.onRow(row('a', 'temperature', 90, t0)))).toEqual(['threshold_crossed:a:temperature>80']);
    expect(kinds(evaluator.onRow(row('b', 'temperature', 90, t0)))).toEqual(['threshold_crossed:b:temperature>80']);
    expect(kinds(evaluator.onRow(row('a', 'temperature', 120, t0 + 1)))).toEqual(['threshold_crossed:a:temperature>100']);
    expect(kinds(evaluator.onRow(row('a', 'temperature', 50, t0 + 2)))).toEqual([
      'threshold_cleared:a:temperature>80',
      'threshold_cleared:a:temperature>100',
    ]);
    expect(kinds(evaluator.onRow(row('b', 'temperature', 95, t0 + 3)))).toEqual([]);
  });

  it('ignores metrics without rules', () => {
    const evaluator = createAlertEvaluator(rules('temperature>80'), { silenceAfterMs: 60_000 });
    expect(evaluator.onRow(row('a', 'humidity', 1000, t0))).toEqual([]);
  });

  it('does not let later changes to the rule list alter the evaluator', () => {
    const list = rules('temperature>80');
    const evaluator = createAlertEvaluator(list, { silenceAfterMs: 60_000 });
    (list[0] as AlertRule).threshold = 0;
    expect(evaluator.onRow(row('a', 'temperature', 50, t0))).toEqual([]);
  });
});

describe('createAlertEvaluator silence', () => {
  it('reports a device once when it goes silent, and again only after it was heard in between', () => {
    const evaluator = createAlertEvaluator([], { silenceAfterMs: 1000 });
    evaluator.onRow(row('a', 'x', 1, t0));
    evaluator.onRow(row('b', 'x', 1, t0 + 500));
    expect(evaluator.checkSilence(t0 + 999)).toEqual([]);
    expect(evaluator.checkSilence(t0 + 1000)).toEqual([{ kind: 'device_silent', deviceId: 'a', atMs: t0 + 1000, lastHeardMs: t0 }]);
    expect(kinds(evaluator.checkSilence(t0 + 1600))).toEqual(['device_silent:b']);
    expect(evaluator.checkSilence(t0 + 5000)).toEqual([]);
    evaluator.onRow(row('a', 'x', 1, t0 + 6000));
    expect(evaluator.checkSilence(t0 + 6500)).toEqual([]);
    expect(kinds(evaluator.checkSilence(t0 + 7000))).toEqual(['device_silent:a']);
  });

  it('does not end a silence for a replayed older row', () => {
    const evaluator = createAlertEvaluator([], { silenceAfterMs: 1000 });
    evaluator.onRow(row('a', 'x', 1, t0));
    expect(kinds(evaluator.checkSilence(t0 + 2000))).toEqual(['device_silent:a']);
    evaluator.onRow(row('a', 'x', 1, t0 - 10));
    expect(evaluator.checkSilence(t0 + 3000)).toEqual([]);
  });

  it('forgets the least recently heard device past maxDevices', () => {
    const evaluator = createAlertEvaluator([], { silenceAfterMs: 1000, maxDevices: 2 });
    evaluator.onRow(row('a', 'x', 1, t0));
    evaluator.onRow(row('b', 'x', 1, t0));
    evaluator.onRow(row('a', 'x', 1, t0 + 1));
    evaluator.onRow(row('c', 'x', 1, t0 + 2));
    expect(kinds(evaluator.checkSilence(t0 + 10_000)).sort()).toEqual(['device_silent:a', 'device_silent:c']);
  });

  it('refuses nonsensical options', () => {
    expect(() => createAlertEvaluator([], { silenceAfterMs: 0 })).toThrow(RangeError);
    expect(() => createAlertEvaluator([], { silenceAfterMs: Number.NaN })).toThrow(RangeError);
    expect(() => createAlertEvaluator([], { silenceAfterMs: 1000, maxDevices: 0 })).toThrow(RangeError);
  });
});
