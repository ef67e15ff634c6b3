/**
 * Mapping rules from MQTT topic filters to Kafka topics, e.g. `devices/+/telemetry -> iot.telemetry`.
 * Filters are compiled once; `map()` runs for every accepted publish, so it walks the topic string in place
 * without regexes, splitting or other per-call allocation.
 */
import { topicFilterMatcher, topicFilterProblem } from '../core/mqtt-topic.ts';
import type { Result } from '../core/result.ts';

export interface MappingRule {
  /** MQTT topic filter; `+` and `#` wildcards allowed. */
  filter: string;
  kafkaTopic: string;
}

export interface TopicMapper {
  /** The Kafka topic of the first rule whose filter matches, or null when none does. */
  map(mqttTopic: string): string | null;
}

/**
 * Parses `filter=kafkaTopic` pairs separated by commas,
 * e.g. `devices/+/telemetry=iot.telemetry,devices/+/events=iot.events`.
 * Whitespace around pairs and parts is ignored. Splits each pair at its last `=` (Kafka names cannot contain one).
 * Filters containing `,` cannot be expressed. Reports every bad rule at once, by 1-based position.
 */
export function parseMappingRules(spec: string): Result<MappingRule[]> {
  if (spec.trim().length === 0) return { ok: false, reason: 'no mapping rules given' };
  const rules: MappingRule[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  spec.split(',').forEach((rawPair, index) => {
    const position = index + 1;
    const pair = rawPair.trim();
    if (pair.length === 0) {
      problems.push(`rule ${position} is empty`);
      return;
    }
    const at = `rule ${position} ${JSON.stringify(pair)}`;
    const eq = pair.lastIndexOf('=');
    if (eq === -1) {
      problems.push(`${at}: missing '=' between MQTT filter and Kafka topic`);
      return;
    }
    const filter = pair.slice(0, eq).trim();
    const kafkaTopic = pair.slice(eq + 1).trim();
    if (filter.length === 0) problems.push(`${at}: empty MQTT filter`);
    else {
      const problem = topicFilterProblem(filter);
      if (problem !== null) problems.push(`${at}: invalid MQTT filter: ${problem}`);
    }
    if (kafkaTopic.length === 0) problems.push(`${at}: empty Kafka topic`);
    else {
      const problem = kafkaTopicProblem(kafkaTopic);
      if (problem !== null) problems.push(`${at}: invalid Kafka topic: ${problem}`);
    }
    const earlier = seen.get(filter);
    if (earlier === undefined) seen.set(filter, position);
    else problems.push(`${at}: filter already mapped by rule ${earlier}, so this rule never applies`);
    rules.push({ filter, kafkaTopic });
  });
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return { ok: true, value: rules };
}

/** Why `name` is not a legal Kafka topic name, or null when it is. */
export function kafkaTopicProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  // Kafka's limit: 249 leaves room for the partition suffix in log directory names
  if (name.length > 249) return `must be at most 249 characters, got ${name.length}`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return 'may only contain ASCII letters, digits, ".", "_" and "-"';
  return null;
}

/**
 * Builds a mapper over `rules`; the first matching rule wins. Throws on a malformed filter: rules should come from
 * {@link parseMappingRules}, so a bad one here is a programming error.
 */
export function createTopicMapper(rules: readonly MappingRule[]): TopicMapper {
  const compiled = rules.map((rule) => {
    const matches = topicFilterMatcher(rule.filter);
    if (matches === null) {
      const problem = topicFilterProblem(rule.filter) ?? 'invalid';
      throw new Error(`createTopicMapper: invalid MQTT filter ${JSON.stringify(rule.filter)}: ${problem}`);
    }
    return { matches, kafkaTopic: rule.kafkaTopic };
  });
  return {
    map(mqttTopic) {
      for (const rule of compiled) {
        if (rule.matches(mqttTopic)) return rule.kafkaTopic;
      }
      return null;
    },
  };
}
