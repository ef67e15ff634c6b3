/**
 * Authorization decisions for a connected device. Pure: the Aedes hooks call these with the authenticated
 * device id and act on the answer. A device may only publish to its own data topics and only subscribe
 * inside its own commands subtree.
 */
import { isValidDeviceId } from '../core/device-record.ts';
import { topicFilterProblem } from '../core/mqtt-topic.ts';

/**
 * Where device topics live: `{prefix}/{deviceId}/{suffix}` for data,
 * `{prefix}/{deviceId}/{commandsLevel}/...` for commands.
 */
export interface TopicLayout {
  /** One or more topic levels, without a leading or trailing `/`, e.g. `devices` or `acme/devices`. */
  readonly prefix: string;
  /** The single levels a device may publish to under its own id. */
  readonly publishSuffixes: readonly string[];
  /** The level under which a device receives commands. */
  readonly commandsLevel: string;
  /** The single level a device answers commands on: `{prefix}/{deviceId}/{resultsLevel}`. */
  readonly resultsLevel: string;
}

export const defaultTopicLayout: TopicLayout = {
  prefix: 'devices',
  publishSuffixes: ['telemetry', 'events'],
  commandsLevel: 'commands',
  resultsLevel: 'command-results',
};

export type AclDecision = { ok: true } | { ok: false; reason: string };

/** Every problem with a layout from configuration; empty when it is usable. */
export function topicLayoutProblems(layout: TopicLayout): string[] {
  const problems: string[] = [];
  const levels = layout.prefix.split('/');
  if (layout.prefix.startsWith('$')) problems.push('topic prefix must not start with "$" (reserved topics)');
  if (levels.some((level) => level.length === 0)) {
    problems.push('topic prefix must be non-empty levels separated by single "/", with none at either end');
  }
  if (hasWildcardOrNul(layout.prefix)) problems.push('topic prefix must not contain "+", "#" or NUL');
  if (layout.publishSuffixes.length === 0) problems.push('at least one publish suffix is required');
  for (const suffix of layout.publishSuffixes) {
    const name = JSON.stringify(suffix);
    if (!isPlainLevel(suffix)) problems.push(`publish suffix ${name} must be one non-empty level without wildcards`);
    if (suffix === layout.commandsLevel) problems.push(`publish suffix ${name} collides with the commands level`);
  }
  if (new Set(layout.publishSuffixes).size !== layout.publishSuffixes.length) {
    problems.push('publish suffixes must be distinct');
  }
  if (!isPlainLevel(layout.commandsLevel)) {
    problems.push('commands level must be one non-empty level without wildcards');
  }
  if (!isPlainLevel(layout.resultsLevel)) problems.push('results level must be one non-empty level without wildcards');
  if (layout.resultsLevel === layout.commandsLevel || layout.publishSuffixes.includes(layout.resultsLevel)) {
    problems.push('results level must differ from the commands level and the publish suffixes');
  }
  return problems;
}

/**
 * May `deviceId` publish to `topic`? Only `{prefix}/{deviceId}/{suffix}` with `suffix` in `layout.publishSuffixes`.
 */
export function authorizePublish(
  deviceId: string,
  topic: string,
  layout: TopicLayout = defaultTopicLayout,
): AclDecision {
  if (topic.length === 0) return deny('empty topic'); // [MQTT-4.7.3-1]
  if (topic.includes('\u0000')) return deny('topic contains NUL'); // [MQTT-4.7.3-2]
  // [MQTT-3.3.2-2]
  if (topic.includes('+') || topic.includes('#')) return deny('wildcards are not allowed in a publish topic');
  if (topic.startsWith('$')) return deny('publishing to $-topics (e.g. $SYS) is not allowed');
  if (!isValidDeviceId(deviceId)) return deny('not a valid device id');

  const own = `${layout.prefix}/${deviceId}/`;
  if (!topic.startsWith(own)) {
    return deviceIdFromTopic(topic, layout) === null
      ? deny(`topic is outside ${layout.prefix}/${deviceId}/`)
      : deny('topic belongs to another device');
  }
  const suffix = topic.slice(own.length);
  if (suffix.includes('/')) return deny(`topic has levels beyond ${own}<suffix>`);
  if (!layout.publishSuffixes.includes(suffix)) {
    const allowed = layout.publishSuffixes.join(', ');
    return deny(`publishing to ${JSON.stringify(suffix)} is not allowed; allowed: ${allowed}`);
  }
  return allow;
}

/**
 * May `deviceId` subscribe to `topicFilter`? Only filters that can match nothing but topics under
 * `{prefix}/{deviceId}/{commandsLevel}`: that level itself, `.../#`, or any sub-filter such as `.../+`.
 */
export function authorizeSubscribe(
  deviceId: string,
  topicFilter: string,
  layout: TopicLayout = defaultTopicLayout,
): AclDecision {
  const syntax = topicFilterProblem(topicFilter);
  if (syntax !== null) return deny(syntax);
  // also covers $share/... shared subscriptions, which would let one device receive others' messages
  if (topicFilter.startsWith('$')) return deny('subscribing to $-topics (e.g. $SYS) is not allowed');
  if (!isValidDeviceId(deviceId)) return deny('not a valid device id');

  const allowedRoot = `${layout.prefix}/${deviceId}/${layout.commandsLevel}`;
  const levels = topicFilter.split('/');
  const prefixLevels = layout.prefix.split('/');
  for (let i = 0; i < prefixLevels.length; i++) {
    if (levels[i] !== prefixLevels[i]) return deny(`filter can match topics outside ${allowedRoot}`);
  }
  const idLevel = levels[prefixLevels.length];
  if (idLevel === '+' || idLevel === '#') {
    return deny("a wildcard in the device level would match other devices' topics");
  }
  if (idLevel === undefined) return deny(`filter can match topics outside ${allowedRoot}`);
  if (idLevel !== deviceId) return deny("filter belongs to another device's topics");
  if (levels[prefixLevels.length + 1] !== layout.commandsLevel) {
    return deny(`filter can match topics outside ${allowedRoot}`);
  }
  return allow;
}

/**
 * The device id in `{prefix}/{deviceId}/...`, or null when the topic is not a device topic
 * (wrong prefix, no level after the id, or an invalid id).
 */
export function deviceIdFromTopic(topic: string, layout: TopicLayout = defaultTopicLayout): string | null {
  const start = layout.prefix.length + 1;
  if (topic.length <= start || !topic.startsWith(layout.prefix) || topic.charCodeAt(start - 1) !== slash) return null;
  const end = topic.indexOf('/', start);
  if (end === -1) return null;
  const id = topic.slice(start, end);
  return isValidDeviceId(id) ? id : null;
}

/** Where the command `name` for `deviceId` is delivered. */
export function commandTopic(deviceId: string, name: string, layout: TopicLayout = defaultTopicLayout): string {
  return `${layout.prefix}/${deviceId}/${layout.commandsLevel}/${name}`;
}

/**
 * May a message on `topic` be forwarded to `deviceId`? Only its own commands: whatever a session store
 * hands the broker, a device never receives a message outside `{prefix}/{deviceId}/{commandsLevel}/`.
 */
export function mayForward(deviceId: string, topic: string, layout: TopicLayout = defaultTopicLayout): boolean {
  return topic.startsWith(`${layout.prefix}/${deviceId}/${layout.commandsLevel}/`);
}

/** The device whose commands `topic` carries (`{prefix}/{id}/{commandsLevel}/...`), or null. */
export function commandTopicDevice(topic: string, layout: TopicLayout = defaultTopicLayout): string | null {
  const deviceId = deviceIdFromTopic(topic, layout);
  return deviceId !== null && mayForward(deviceId, topic, layout) ? deviceId : null;
}

/** Is `topic` where `deviceId` answers its commands? */
export function isCommandResultTopic(deviceId: string, topic: string, layout: TopicLayout = defaultTopicLayout): boolean {
  return topic === `${layout.prefix}/${deviceId}/${layout.resultsLevel}`;
}

/** CONNACK return code 0x02, "Identifier rejected" (MQTT 3.1.1); Aedes sends it when an auth error carries it. */
export const identifierRejected = 2;

export type ClientIdDecision = { ok: true } | { ok: false; reason: string; returnCode: typeof identifierRejected };

/**
 * Checks the MQTT client id exactly as the CONNECT packet carried it. Aedes replaces an empty id with a generated
 * `aedes_<uuid>` (itself a valid device id) before `authenticate` runs, so capture `packet.clientId` in `preConnect`
 * and apply this in `authenticate`, whose error `returnCode` becomes the CONNACK code.
 * - empty id with cleanSession false: refused, as the spec requires [MQTT-3.1.3-8].
 * - empty id with cleanSession true: the spec lets a server assign an id [MQTT-3.1.3-6], but this gateway refuses
 *   it too: the client id must equal the device id, which the ACL, the session and the Kafka record key rely on,
 *   and a server-assigned id is no device's id.
 * - otherwise the id must be a valid device id; a rejected id gets CONNACK 0x02 [MQTT-3.1.3-9].
 */
export function checkClientId(clientId: string, cleanSession: boolean): ClientIdDecision {
  if (clientId.length === 0) {
    return cleanSession
      ? rejectId('empty client id: the client id must be the device id')
      : rejectId('empty client id requires clean session'); // [MQTT-3.1.3-8]
  }
  if (!isValidDeviceId(clientId)) return rejectId('client id is not a valid device id (1..64 of [A-Za-z0-9_.-])');
  return allow;
}

const slash = 0x2f;
const allow = { ok: true } as const;

function deny(reason: string): AclDecision {
  return { ok: false, reason };
}

function rejectId(reason: string): ClientIdDecision {
  return { ok: false, reason, returnCode: identifierRejected };
}

function isPlainLevel(level: string): boolean {
  return level.length > 0 && !level.includes('/') && !hasWildcardOrNul(level);
}

function hasWildcardOrNul(text: string): boolean {
  return text.includes('+') || text.includes('#') || text.includes('\u0000');
}

