/** MQTT topic-filter syntax and matching, shared by the gateway (ACL, session matching) and the bridge's mapping rules. */

/** Why `filter` is not a well-formed MQTT topic filter, or null when it is. */
export function topicFilterProblem(filter: string): string | null {
  if (filter.length === 0) return 'empty topic filter'; // [MQTT-4.7.3-1]
  if (filter.includes('\u0000')) return 'topic filter contains NUL'; // [MQTT-4.7.3-2]
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] ?? '';
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return '"#" must be a whole level and the last one'; // [MQTT-4.7.1-2]
    }
    if (level.includes('+') && level !== '+') return '"+" must be a whole level'; // [MQTT-4.7.1-3]
  }
  return null;
}

/**
 * Builds the MQTT matcher of `filter`: `+` matches exactly one level, a trailing `#` matches the parent level and
 * everything below it, and a filter starting with a wildcard never matches a `$` topic [MQTT-4.7.2-1]. An empty topic
 * matches nothing. Null for a malformed filter.
 */
export function topicFilterMatcher(filter: string): ((topic: string) => boolean) | null {
  const compiled = compileFilter(filter);
  return compiled === null ? null : (topic) => matchesCompiled(compiled, topic);
}

/** A filter as literal levels and `+` markers (null), plus whether it ends in `#`. */
interface CompiledFilter {
  /** Set when the filter has no wildcards: matching is then string equality. */
  readonly exact: string | null;
  readonly levels: readonly (string | null)[];
  readonly trailingHash: boolean;
  /** The first level is a wildcard, so `$` topics must not match [MQTT-4.7.2-1]. */
  readonly skipsDollarTopics: boolean;
}

function compileFilter(filter: string): CompiledFilter | null {
  if (topicFilterProblem(filter) !== null) return null;
  const parts = filter.split('/');
  const trailingHash = parts[parts.length - 1] === '#';
  if (trailingHash) parts.pop();
  const levels = parts.map((level) => (level === '+' ? null : level));
  const wildcardFree = !trailingHash && !levels.includes(null);
  return {
    exact: wildcardFree ? filter : null,
    levels,
    trailingHash,
    skipsDollarTopics: levels.length === 0 ? trailingHash : levels[0] === null,
  };
}

const slash = 0x2f;
const dollar = 0x24;

function matchesCompiled(filter: CompiledFilter, topic: string): boolean {
  if (topic.length === 0) return false; // [MQTT-4.7.3-1]
  if (filter.exact !== null) return topic === filter.exact;
  if (filter.skipsDollarTopics && topic.charCodeAt(0) === dollar) return false;
  const { levels } = filter;
  // start of the current topic level; topic.length + 1 once every level has been consumed
  let start = 0;
  for (let i = 0; i < levels.length; i++) {
    if (start > topic.length) return false;
    const level = levels[i];
    let end: number;
    if (level === null || level === undefined) {
      end = topic.indexOf('/', start);
      if (end === -1) end = topic.length;
    } else {
      // a literal level must be followed by '/' or the end, so "ab" does not match "a"
      if (!topic.startsWith(level, start)) return false;
      end = start + level.length;
      if (end !== topic.length && topic.charCodeAt(end) !== slash) return false;
    }
    start = end + 1;
  }
  // a trailing '#' also matches the parent level itself: "a/#" matches "a" [MQTT-4.7.1-2]
  return filter.trailingHash || start === topic.length + 1;
}
