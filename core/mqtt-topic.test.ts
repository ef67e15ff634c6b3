import { describe, expect, it } from 'vitest';
import { topicFilterMatcher, topicFilterProblem } from './mqtt-topic.ts';

describe('topicFilterProblem', () => {
  it.each(['#', '+', 'a/#', '+/+', '/+', 'a//b', '$SYS/#', 'sport/+/player1'])('accepts %j', (filter) => {
    expect(topicFilterProblem(filter)).toBeNull();
  });

  it.each([
    ['', 'empty topic filter'],
    ['a/\u0000', 'topic filter contains NUL'],
    ['sport/tennis#', '"#" must be a whole level and the last one'],
    ['sport/#/ranking', '"#" must be a whole level and the last one'],
    ['sport+', '"+" must be a whole level'],
  ])('rejects %j', (filter, problem) => {
    expect(topicFilterProblem(filter)).toBe(problem);
  });
});

describe('topicFilterMatcher', () => {
  const topicMatches = (filter: string, topic: string): boolean => topicFilterMatcher(filter)?.(topic) ?? false;

  it.each([
    ['sport/tennis/player1', 'sport/tennis/player1', true],
    ['sport/tennis/player1', 'sport/tennis/player2', false],
    ['sport/tennis/player1', 'sport/tennis/player1/x', false],
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/tennis/player1/#', 'sport/tennis/player10', false],
    ['sport/#', 'sport', true],
    ['#', 'anything/at/all', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['devices/+/telemetry', 'devices/d1/telemetry', true],
    ['devices/+/telemetry', 'devices//telemetry', true],
    ['devices/+/telemetry', 'devices/d1/events', false],
    ['devices/+/telemetry', 'devices/d1/telemetry2', false],
    ['devices/+/telemetry', 'devices/d1/telemetr', false],
    ['devices/+/telemetry', 'devices/d1', false],
    ['a/b', 'a/b/', false],
  ])('%j vs %j -> %j', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('does not match $ topics with a leading wildcard [MQTT-4.7.2-1]', () => {
    expect(topicMatches('#', '$SYS/broker/load')).toBe(false);
    expect(topicMatches('+/monitor/Clients', '$SYS/monitor/Clients')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/broker/load')).toBe(true);
    expect(topicMatches('$SYS/monitor/+', '$SYS/monitor/Clients')).toBe(true);
    expect(topicMatches('a/#', 'a/$x')).toBe(true);
  });

  it('matches nothing for a malformed filter or an empty topic', () => {
    expect(topicMatches('a/#/b', 'a/x/b')).toBe(false);
    expect(topicMatches('a+', 'a+')).toBe(false);
    expect(topicMatches('#', '')).toBe(false);
  });
});
