import { describe, expect, it } from 'vitest';
import { topicFilterProblem } from './mqtt-topic.ts';

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
