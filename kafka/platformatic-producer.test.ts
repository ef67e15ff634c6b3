import { MultipleErrors, NetworkError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { describePlatformaticError } from './platformatic-producer.ts';

describe('describePlatformaticError', () => {
  it('names the distinct innermost errors of nested aggregates', () => {
    const refused = new NetworkError('Connection to 127.0.0.1:9092 refused.');
    const error = new MultipleErrors('Producing messages failed.', [new MultipleErrors('produce failed 3 times.', [refused, refused, new Error('NOT_LEADER_OR_FOLLOWER')])]);
    expect(describePlatformaticError(error)).toBe('Producing messages failed. (Connection to 127.0.0.1:9092 refused.; NOT_LEADER_OR_FOLLOWER)');
  });

  it('keeps a plain error as it is', () => {
    expect(describePlatformaticError(new Error('Unknown topic t.'))).toBe('Unknown topic t.');
  });
});
