import { describe, expect, it } from 'vitest';
import {
  createTopicMapper,
  kafkaTopicProblem,
  parseMappingRules,
} from './topic-mapping.ts';

function reasonOf(result: { ok: true } | { ok: false; reason: string }): string {
  if (result.ok) throw new Error('expected a failed result');
  return result.reason;
}

describe('parseMappingRules', () => {
  it('parses the default spec in order', () => {
    expect(parseMappingRules('devices/+/telemetry=iot.telemetry,devices/+/events=iot.events')).toEqual({
      ok: true,
      value: [
        { filter: 'devices/+/telemetry', kafkaTopic: 'iot.telemetry' },
        { filter: 'devices/+/events', kafkaTopic: 'iot.events' },
      ],
    });
  });

  it('ignores whitespace around pairs and parts', () => {
    expect(parseMappingRules(' devices/# = iot.all ,\n site/+/x=iot_x ')).toEqual({
      ok: true,
      value: [
        { filter: 'devices/#', kafkaTopic: 'iot.all' },
        { filter: 'site/+/x', kafkaTopic: 'iot_x' },
      ],
    });
  });

  it('splits at the last "=", since Kafka names cannot contain one', () => {
    expect(parseMappingRules('a=b/+=iot.ab')).toEqual({ ok: true, value: [{ filter: 'a=b/+', kafkaTopic: 'iot.ab' }] });
  });

  it.each([
    ['', 'no mapping rules given'],
    ['  ', 'no mapping rules given'],
    ['devices/+/telemetry', `rule 1 "devices/+/telemetry": missing '=' between MQTT filter and Kafka topic`],
    ['a=iot.a,', 'rule 2 is empty'],
    ['=iot.a', 'rule 1 "=iot.a": empty MQTT filter'],
    ['devices/#=', 'rule 1 "devices/#=": empty Kafka topic'],
    ['#/x=iot.a', 'rule 1 "#/x=iot.a": invalid MQTT filter: "#" must be a whole level and the last one'],
    ['a/b#=iot.a', 'rule 1 "a/b#=iot.a": invalid MQTT filter: "#" must be a whole level and the last one'],
    ['a/+b=iot.a', 'rule 1 "a/+b=iot.a": invalid MQTT filter: "+" must be a whole level'],
    ['a=iot/a', 'rule 1 "a=iot/a": invalid Kafka topic: may only contain ASCII letters, digits, ".", "_" and "-"'],
    ['a=..', 'rule 1 "a=..": invalid Kafka topic: must not be "." or ".."'],
    [
      `a=${'t'.repeat(250)}`,
      `rule 1 "a=${'t'.repeat(250)}": invalid Kafka topic: must be at most 249 characters, got 250`,
    ],
    ['a/+=iot.a,a/+=iot.b', 'rule 2 "a/+=iot.b": filter already mapped by rule 1, so this rule never applies'],
  ])('rejects %j', (spec, reason) => {
    expect(reasonOf(parseMappingRules(spec))).toBe(reason);
  });

  it('reports every problem at once', () => {
    expect(reasonOf(parseMappingRules('x,,=,a=b c'))).toBe(
      `rule 1 "x": missing '=' between MQTT filter and Kafka topic; rule 2 is empty; ` +
        'rule 3 "=": empty MQTT filter; rule 3 "=": empty Kafka topic; ' +
        'rule 4 "a=b c": invalid Kafka topic: may only contain ASCII letters, digits, ".", "_" and "-"',
    );
  });
});

describe('kafkaTopicProblem', () => {
  it('accepts legal names, including the longest', () => {
    expect(kafkaTopicProblem('iot.telemetry.dlq')).toBeNull();
    expect(kafkaTopicProblem('A-b_c.9')).toBeNull();
    expect(kafkaTopicProblem('t'.repeat(249))).toBeNull();
    expect(kafkaTopicProblem('...')).toBeNull();
  });

  it('rejects illegal names', () => {
    expect(kafkaTopicProblem('')).toBe('must not be empty');
    expect(kafkaTopicProblem('.')).toBe('must not be "." or ".."');
    expect(kafkaTopicProblem('iot telemetry')).toMatch(/^may only contain/);
    expect(kafkaTopicProblem('iöt')).toMatch(/^may only contain/);
  });
});

describe('createTopicMapper', () => {
  const rules = [
    { filter: 'devices/+/telemetry', kafkaTopic: 'iot.telemetry' },
    { filter: 'devices/+/events', kafkaTopic: 'iot.events' },
    { filter: 'devices/vip/#', kafkaTopic: 'iot.vip' },
    { filter: 'devices/#', kafkaTopic: 'iot.other' },
  ];
  const mapper = createTopicMapper(rules);

  it('maps to the first matching rule', () => {
    expect(mapper.map('devices/d1/telemetry')).toBe('iot.telemetry');
    expect(mapper.map('devices/d1/events')).toBe('iot.events');
    expect(mapper.map('devices/vip/telemetry')).toBe('iot.telemetry');
    expect(mapper.map('devices/vip/status')).toBe('iot.vip');
    expect(mapper.map('devices/d1/status/x')).toBe('iot.other');
    expect(mapper.map('devices')).toBe('iot.other');
  });

  it('returns null when no rule matches', () => {
    expect(mapper.map('sites/s1/telemetry')).toBeNull();
    expect(mapper.map('')).toBeNull();
    expect(createTopicMapper([]).map('devices/d1/telemetry')).toBeNull();
  });

  it('matches exact filters by equality', () => {
    const exact = createTopicMapper([{ filter: 'a/b', kafkaTopic: 'iot.ab' }]);
    expect(exact.map('a/b')).toBe('iot.ab');
    expect(exact.map('a/bc')).toBeNull();
  });

  it('keeps $ topics away from wildcard rules', () => {
    expect(createTopicMapper([{ filter: '#', kafkaTopic: 'iot.all' }]).map('$SYS/x')).toBeNull();
  });

  it('throws on a malformed filter', () => {
    expect(() => createTopicMapper([{ filter: 'a/#/b', kafkaTopic: 'iot.a' }])).toThrow(
      'createTopicMapper: invalid MQTT filter "a/#/b": "#" must be a whole level and the last one',
    );
  });
});
