/**
 * Server-sent events (the text/event-stream format, WHATWG HTML §9.2.6) parsed from text chunks as
 * they arrive: the console reads the job stream with fetch, since EventSource cannot send an
 * Authorization header. Pure.
 */

export interface StreamEvent {
  event: string;
  data: string;
}

/** A parser: feed it chunks in order; it calls `onEvent` for each complete event. */
export function createEventStreamParser(onEvent: (event: StreamEvent) => void): (chunk: string) => void {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  const line = (text: string): void => {
    if (text === '') {
      // a blank line ends an event; one without data is not dispatched
      if (data.length > 0) onEvent({ event: event === '' ? 'message' : event, data: data.join('\n') });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  };
  return (chunk) => {
    buffer += chunk;
    // a \r at the end may be the first half of \r\n: wait for the next chunk to tell
    const held = buffer.endsWith('\r') ? '\r' : '';
    const lines = buffer.slice(0, buffer.length - held.length).split(/\r\n|\r|\n/);
    // the last piece is a line still arriving
    buffer = (lines.pop() ?? '') + held;
    for (const text of lines) line(text);
  };
}
