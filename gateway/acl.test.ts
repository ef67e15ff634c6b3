import { describe, expect, it } from 'vitest';
import {
  authorizePublish,
  authorizeSubscribe,
  checkClientId,
  commandTopic,
  commandTopicDevice,
  defaultTopicLayout,
  deviceIdFromTopic,
  identifierRejected,
  isCommandResultTopic,
  mayForward,
  topicLayoutProblems,
} from './acl.ts';
import type { TopicLayout } from './acl.ts';

const custom: TopicLayout = { prefix: 'acme/things', publishSuffixes: ['metrics'], commandsLevel: 'cmd', resultsLevel: 'answers' };

describe('authorizePublish', () => {
  it.each(['devices/d1/telemetry', 'devices/d1/events'])('allows the own data topic %s', (topic) => {
    expect(authorizePublish('d1', topic, defaultTopicLayout)).toEqual({ ok: true });
  });

  it('uses the default layout when none is given', () => {
    expect(authorizePublish('d1', 'devices/d1/telemetry')).toEqual({ ok: true });
  });

  it.each([
    ['', 'empty topic'],
    ['devices/d1/tele\u0000metry', 'topic contains NUL'],
    ['$SYS/broker/clients', 'publishing to $-topics (e.g. $SYS) is not allowed'],
    ['$devices/d1/telemetry', 'publishing to $-topics (e.g. $SYS) is not allowed'],
    ['devices/d2/telemetry', 'topic belongs to another device'],
    ['devices/d10/telemetry', 'topic belongs to another device'],
    ['devices/+/telemetry', 'wildcards are not allowed in a publish topic'],
    ['devices/d1/#', 'wildcards are not allowed in a publish topic'],
    ['devices/d1/telemetry/extra', 'topic has levels beyond devices/d1/<suffix>'],
    ['devices/d1/commands', 'publishing to "commands" is not allowed; allowed: telemetry, events'],
    ['devices/d1/', 'publishing to "" is not allowed; allowed: telemetry, events'],
    ['devices/d1', 'topic is outside devices/d1/'],
    ['other/d1/telemetry', 'topic is outside devices/d1/'],
    ['/devices/d1/telemetry', 'topic is outside devices/d1/'],
  ])('refuses %j', (topic, reason) => {
    expect(authorizePublish('d1', topic, defaultTopicLayout)).toEqual({ ok: false, reason });
  });

  it('refuses an invalid device id even on a matching-looking topic', () => {
    expect(authorizePublish('a b', 'devices/a b/telemetry')).toEqual({ ok: false, reason: 'not a valid device id' });
  });

  it('follows a custom layout', () => {
    expect(authorizePublish('d1', 'acme/things/d1/metrics', custom)).toEqual({ ok: true });
    expect(authorizePublish('d1', 'acme/things/d1/telemetry', custom).ok).toBe(false);
    expect(authorizePublish('d1', 'devices/d1/telemetry', custom).ok).toBe(false);
  });
});

describe('authorizeSubscribe', () => {
  it.each([
    'devices/d1/commands/#',
    'devices/d1/commands',
    'devices/d1/commands/reboot',
    'devices/d1/commands/+',
    'devices/d1/commands/+/ack',
  ])('allows %j', (filter) => {
    expect(authorizeSubscribe('d1', filter, defaultTopicLayout)).toEqual({ ok: true });
  });

  it.each([
    ['#', 'filter can match topics outside devices/d1/commands'],
    ['+/d1/commands/#', 'filter can match topics outside devices/d1/commands'],
    ['devices/#', "a wildcard in the device level would match other devices' topics"],
    ['devices/+/commands/#', "a wildcard in the device level would match other devices' topics"],
    ['devices/d2/commands/#', "filter belongs to another device's topics"],
    ['devices/d1/#', 'filter can match topics outside devices/d1/commands'],
    ['devices/d1/+/reboot', 'filter can match topics outside devices/d1/commands'],
    ['devices/d1/telemetry', 'filter can match topics outside devices/d1/commands'],
    ['devices/d1', 'filter can match topics outside devices/d1/commands'],
    ['devices', 'filter can match topics outside devices/d1/commands'],
    ['$SYS/#', 'subscribing to $-topics (e.g. $SYS) is not allowed'],
    ['$share/g/devices/d1/commands/#', 'subscribing to $-topics (e.g. $SYS) is not allowed'],
    ['', 'empty topic filter'],
    ['devices/d1/commands/#/x', '"#" must be a whole level and the last one'],
    ['devices/d1/commands/a#', '"#" must be a whole level and the last one'],
    ['devices/d1/commands/a+', '"+" must be a whole level'],
  ])('refuses %j', (filter, reason) => {
    expect(authorizeSubscribe('d1', filter, defaultTopicLayout)).toEqual({ ok: false, reason });
  });

  it('follows a custom layout', () => {
    expect(authorizeSubscribe('d1', 'acme/things/d1/cmd/#', custom)).toEqual({ ok: true });
    expect(authorizeSubscribe('d1', 'acme/+/d1/cmd/#', custom).ok).toBe(false);
    expect(authorizeSubscribe('d1', 'devices/d1/commands/#', custom).ok).toBe(false);
  });
});

describe('deviceIdFromTopic', () => {
  it.each([
    ['devices/d1/telemetry', 'd1'],
    ['devices/sensor-01.b/commands/reboot', 'sensor-01.b'],
    ['devices/d1', null],
    ['devices//telemetry', null],
    ['devicesX/d1/telemetry', null],
    ['other/d1/telemetry', null],
    ['devices/$x/telemetry', null],
    ['devices/+/telemetry', null],
    ['devices', null],
  ])('%j -> %j', (topic, expected) => {
    expect(deviceIdFromTopic(topic, defaultTopicLayout)).toBe(expected);
  });

  it('follows a multi-level prefix', () => {
    expect(deviceIdFromTopic('acme/things/d7/metrics', custom)).toBe('d7');
    expect(deviceIdFromTopic('acme/d7/metrics', custom)).toBeNull();
  });
});

describe('checkClientId', () => {
  it('refuses an empty client id without clean session with "identifier rejected" [MQTT-3.1.3-8]', () => {
    expect(checkClientId('', false)).toEqual({
      ok: false,
      reason: 'empty client id requires clean session',
      returnCode: identifierRejected,
    });
    expect(identifierRejected).toBe(2);
  });

  it('refuses an empty client id with clean session too, because it must be the device id', () => {
    expect(checkClientId('', true)).toEqual({
      ok: false,
      reason: 'empty client id: the client id must be the device id',
      returnCode: 2,
    });
  });

  it.each(['a/b', '$d1', 'x'.repeat(65), 'dev#1'])('refuses the invalid device id %j', (id) => {
    expect(checkClientId(id, true)).toEqual({
      ok: false,
      reason: 'client id is not a valid device id (1..64 of [A-Za-z0-9_.-])',
      returnCode: 2,
    });
  });

  it('accepts a valid device id with either session mode', () => {
    expect(checkClientId('d1', true)).toEqual({ ok: true });
    expect(checkClientId('d1', false)).toEqual({ ok: true });
  });
});

describe('topicLayoutProblems', () => {
  it('finds nothing wrong with the default and a custom layout', () => {
    expect(topicLayoutProblems(defaultTopicLayout)).toEqual([]);
    expect(topicLayoutProblems(custom)).toEqual([]);
  });

  it('lists every problem at once', () => {
    expect(
      topicLayoutProblems({ prefix: '$dev/', publishSuffixes: ['a/b', 'cmd', 'cmd'], commandsLevel: 'cmd', resultsLevel: 'results' }),
    ).toEqual([
      'topic prefix must not start with "$" (reserved topics)',
      'topic prefix must be non-empty levels separated by single "/", with none at either end',
      'publish suffix "a/b" must be one non-empty level without wildcards',
      'publish suffix "cmd" collides with the commands level',
      'publish suffix "cmd" collides with the commands level',
      'publish suffixes must be distinct',
    ]);
  });

  it('requires a wildcard-free prefix, a suffix and a plain commands level', () => {
    expect(topicLayoutProblems({ prefix: 'dev/+', publishSuffixes: [], commandsLevel: '#', resultsLevel: 'results' })).toEqual([
      'topic prefix must not contain "+", "#" or NUL',
      'at least one publish suffix is required',
      'commands level must be one non-empty level without wildcards',
    ]);
  });
});

describe('commands and their results', () => {
  it('forwards a device only its own commands', () => {
    expect(mayForward('dev-1', commandTopic('dev-1', 'reboot'))).toBe(true);
    expect(mayForward('dev-1', 'devices/dev-1/commands/reboot/now')).toBe(true);
    expect(mayForward('dev-1', commandTopic('dev-2', 'reboot'))).toBe(false);
    expect(mayForward('dev-1', 'devices/dev-10/commands/reboot')).toBe(false);
    expect(mayForward('dev-1', 'devices/dev-1/telemetry')).toBe(false);
    expect(mayForward('dev-1', 'devices/dev-1/commands')).toBe(false);
    expect(mayForward('dev', commandTopic('dev', 'x', custom), custom)).toBe(true);
    expect(commandTopic('dev', 'x', custom)).toBe('acme/things/dev/cmd/x');
  });

  it('finds the device a command topic belongs to', () => {
    expect(commandTopicDevice('devices/dev-1/commands/reboot')).toBe('dev-1');
    expect(commandTopicDevice('devices/dev-1/telemetry')).toBeNull();
    expect(commandTopicDevice('$SYS/abc/new/clients')).toBeNull();
  });

  it('knows the results topic, which a device may not use for another id', () => {
    expect(isCommandResultTopic('dev-1', 'devices/dev-1/command-results')).toBe(true);
    expect(isCommandResultTopic('dev-1', 'devices/dev-2/command-results')).toBe(false);
    expect(isCommandResultTopic('dev', 'acme/things/dev/answers', custom)).toBe(true);
  });

  it('refuses a results level that collides', () => {
    expect(topicLayoutProblems({ ...defaultTopicLayout, resultsLevel: 'telemetry' })).toContain('results level must differ from the commands level and the publish suffixes');
  });
});
