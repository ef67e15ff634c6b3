/**
 * Text that repeats record after record at the same place: header names, and most header values
 * (gateway id, QoS, content type, schema version). Decoding each from UTF-8 made a new string per
 * header per record, and a new string is also a fresh property key for the object it goes into.
 * A RepeatedText keeps the last string read in each slot and returns that same string again when
 * the bytes are equal, compared byte by byte against its characters, so nothing is copied.
 *
 * Only ASCII strings are kept: a string as long as its UTF-8 bytes holds one character per byte,
 * each ASCII or U+FFFD (an invalid byte), and U+FFFD never equals a byte, so a match means the bytes
 * are those of that ASCII string. Anything else is decoded every time.
 */
export type RepeatedText = (bytes: Buffer, start: number, end: number, slot: number) => string;

export function createRepeatedText(slots: number): RepeatedText {
  const last: string[] = Array.from({ length: slots }, () => '');
  return (bytes, start, end, slot) => {
    const length = end - start;
    if (slot < slots) {
      const kept = last[slot]!;
      if (kept.length === length && length > 0) {
        let index = 0;
        while (index < length && bytes[start + index] === kept.charCodeAt(index)) index += 1;
        if (index === length) return kept;
      }
    }
    const text = bytes.toString('utf8', start, end);
    if (slot < slots && text.length === length) last[slot] = text;
    return text;
  };
}
