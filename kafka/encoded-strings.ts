/**
 * UTF-8 encodings of the strings records repeat (keys, header names and values), made once and
 * reused: @platformatic/kafka copies each into the request, so sharing one Buffer is safe. A gateway
 * record has seven headers; encoding them anew for every record was a measurable share of the
 * gateway's CPU (docs/benchmarks/profiles.md).
 */

/**
 * A string → Buffer cache of at most `maxEntries`. A string set with more distinct values than
 * that (a receive time, or more devices than the bound) is not worth caching: the cache is then
 * emptied and strings are encoded each time, as without it, so memory stays bounded either way.
 */
export function createEncodedStrings(maxEntries: number): (text: string) => Buffer {
  const cache = new Map<string, Buffer>();
  let caching = true;
  return (text) => {
    const cached = cache.get(text);
    if (cached !== undefined) return cached;
    if (!caching) return Buffer.from(text, 'utf8');
    if (cache.size >= maxEntries) {
      caching = false;
      cache.clear();
      return Buffer.from(text, 'utf8');
    }
    // Its own allocation: a small Buffer.from is a slice of a shared 8 KiB pool, which a kept slice would pin.
    const encoded = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
    encoded.write(text, 'utf8');
    cache.set(text, encoded);
    return encoded;
  };
}

/**
 * Encodes a record's headers, one cache per header name, so a name whose values never repeat
 * (a receive time) gives up caching without affecting one whose values do (a topic per device).
 */
export function createHeaderEncoder(maxValuesPerName: number): (headers: Readonly<Record<string, string>>) => Map<Buffer, Buffer> {
  const names = createEncodedStrings(1024);
  const valuesByName = new Map<string, (text: string) => Buffer>();
  return (headers) => {
    const encoded = new Map<Buffer, Buffer>();
    for (const name in headers) {
      let values = valuesByName.get(name);
      if (values === undefined) {
        values = createEncodedStrings(maxValuesPerName);
        if (valuesByName.size < 1024) valuesByName.set(name, values);
      }
      encoded.set(names(name), values(headers[name]!));
    }
    return encoded;
  };
}
