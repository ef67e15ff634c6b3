import { SenderBufferV2, SenderOptions } from '@questdb/nodejs-client';
import { describe, expect, it } from 'vitest';
import { installFastIlpEscaping } from './ilp-fast-escape.ts';

interface RawBuffer {
  writeEscaped(data: string, quoted?: boolean): void;
  currentPosition(): number;
  toBufferView(pos?: number): Buffer | null;
}

const written = (buffer: RawBuffer): string => buffer.toBufferView(buffer.currentPosition())?.toString('utf8') ?? '';

const newBuffer = (): RawBuffer => new SenderBufferV2(new SenderOptions('http::addr=127.0.0.1:9000;protocol_version=2')) as unknown as RawBuffer;

const samples = ['plant-a', 'dev_0001.x', 'a b', 'a,b', 'a=b', 'back\\slash', 'two\nlines', 'cr\rhere', 'quote"d', 'ünïcödé', 'emoji 😀 here', '', '\\', ' ,= ', 'x'.repeat(300)];

describe('installFastIlpEscaping', () => {
  const clientEscape = installFastIlpEscaping();

  it('finds the client method it speeds up (a client upgrade that renames it fails here)', () => {
    expect(clientEscape).toBeTypeOf('function');
    expect(installFastIlpEscaping()).toBe(clientEscape);
  });

  it('writes exactly the bytes the client itself writes, quoted and unquoted', () => {
    for (const quoted of [false, true]) {
      for (const sample of samples) {
        const fast = newBuffer();
        fast.writeEscaped(sample, quoted);
        const reference = newBuffer();
        clientEscape!.call(reference as never, sample, quoted);
        expect(written(fast), `${JSON.stringify(sample)} quoted=${quoted}`).toBe(written(reference));
      }
    }
  });

  it('still escapes what ILP requires', () => {
    const buffer = newBuffer();
    buffer.writeEscaped('a b,c=d\\e');
    expect(written(buffer)).toBe('a\\ b\\,c\\=d\\\\e');
  });
});
