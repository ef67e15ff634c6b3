import { MultipleErrors, NetworkError, ProtocolError } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { describePlatformaticError } from './platformatic-producer.ts';

describe('describePlatformaticError', () => {
  it('names the distinct innermost errors of nested aggregates', () => {
    const refused = new NetworkError('Connection to 127.0.0.1:9092 refused.');
    const error = new MultipleErrors('Producing messages failed.', [new MultipleErrors('produce failed 3 times.', [refused, refused, new Error('NOT_LEADER_OR_FOLLOWER')])]);
    expect(describePlatformaticError(error)).toBe('Producing messages failed. (Connection to 127.0.0.1:9092 refused.; NOT_LEADER_OR_FOLLOWER)');
  });

  it("prefixes Kafka's error name where the client gives one", () => {
    const refused = new ProtocolError('NOT_ENOUGH_REPLICAS');
    expect(describePlatformaticError(new MultipleErrors('Producing messages failed.', [refused]))).toBe(`Producing messages failed. (NOT_ENOUGH_REPLICAS: ${refused.message})`);
  });

  it('keeps a plain error as it is', () => {
    expect(describePlatformaticError(new Error('Unknown topic t.'))).toBe('Unknown topic t.');
  });
});
