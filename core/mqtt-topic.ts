/** MQTT topic-filter syntax, shared by the gateway's ACL and the bridge's mapping rules. */

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
