import { describe, expect, it } from 'vitest';
import { createRepeatedText } from './repeated-text.ts';

describe('createRepeatedText', () => {
  const whole = (text: ReturnType<typeof createRepeatedText>, bytes: Buffer, slot: number): string => text(bytes, 0, bytes.length, slot);

  it('returns the same string object for the same bytes in a slot, and the new text for other bytes', () => {
    const text = createRepeatedText(4);
    const first = whole(text, Buffer.from('gateway.id'), 0);
    const again = whole(text, Buffer.from('gateway.id'), 0);
    expect(again).toBe('gateway.id');
    expect(Object.is(first, again)).toBe(true);
    expect(whole(text, Buffer.from('gateway.ie'), 0)).toBe('gateway.ie');
    expect(whole(text, Buffer.from('gateway.i'), 0)).toBe('gateway.i');
    expect(whole(text, Buffer.from('other'), 1)).toBe('other');
    expect(whole(text, Buffer.from('gateway.i'), 0)).toBe('gateway.i');
  });

  it('reads a range inside a larger buffer', () => {
    const text = createRepeatedText(1);
    const bytes = Buffer.from('xxqos1yy');
    expect(text(bytes, 2, 6, 0)).toBe('qos1');
    expect(text(bytes, 2, 6, 0)).toBe('qos1');
    expect(text(bytes, 3, 7, 0)).toBe('os1y');
  });

  it('decodes UTF-8 and invalid bytes every time, never mistaking them for kept text', () => {
    const text = createRepeatedText(1);
    expect(whole(text, Buffer.from('ünï'), 0)).toBe('ünï');
    expect(whole(text, Buffer.from('ünï'), 0)).toBe('ünï');
    const invalid = Buffer.from([0x61, 0xff, 0x62]);
    expect(whole(text, invalid, 0)).toBe('a\uFFFDb');
    expect(whole(text, Buffer.from([0x61, 0xfe, 0x62]), 0)).toBe('a\uFFFDb');
    expect(whole(text, Buffer.from('a\u00ffb', 'latin1'), 0)).toBe('a\uFFFDb');
    expect(whole(text, Buffer.alloc(0), 0)).toBe('');
  });

  it('decodes past its slots without keeping anything', () => {
    const text = createRepeatedText(1);
    expect(whole(text, Buffer.from('abc'), 5)).toBe('abc');
    expect(whole(text, Buffer.from('abd'), 5)).toBe('abd');
  });
});
