import { describe, expect, it } from 'vitest';
import { createEventStreamParser, type StreamEvent } from './event-stream.ts';

describe('event stream parser', () => {
  it('dispatches events split anywhere across chunks, joins data lines, skips comments', () => {
    const events: StreamEvent[] = [];
    const feed = createEventStreamParser((event) => events.push(event));
    const text = 'event: job\ndata: {"id":"a"}\n\n: keep-alive\n\nevent: job\r\ndata: line 1\r\ndata:line 2\r\n\r\ndata: plain\n\n';
    for (const char of text) feed(char);
    expect(events).toEqual([
      { event: 'job', data: '{"id":"a"}' },
      { event: 'job', data: 'line 1\nline 2' },
      { event: 'message', data: 'plain' },
    ]);
  });

  it('keeps an event that has not ended until its blank line comes', () => {
    const events: StreamEvent[] = [];
    const feed = createEventStreamParser((event) => events.push(event));
    feed('event: job\ndata: {"id"');
    expect(events).toEqual([]);
    feed(':"b"}\n\n');
    expect(events).toEqual([{ event: 'job', data: '{"id":"b"}' }]);
  });
});
