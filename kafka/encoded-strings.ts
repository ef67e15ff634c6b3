/**
 * UTF-8 encodings of the strings records repeat (keys, header names and values), made once and
 * reused: @platformatic/kafka copies each into the request, so sharing one Buffer is safe. A gateway
 * record has seven headers; encoding them anew for every record was a measurable share of the
 * gateway's CPU (docs/benchmarks/gateway-profile.md).
 */

/** A string → Buffer cache holding at most `maxEntries`; beyond that, strings are encoded each time. */
export function createEncodedStrings(maxEntries: number): (text: string) => Buffer {
  const cache = new Map<string, Buffer>();
  return (text) => {
    let encoded = cache.get(text);
    if (encoded === undefined) {
      encoded = Buffer.from(text, 'utf8');
      // Full: a value that changes with every record (a timestamp) stops growing it; nothing is evicted.
      if (cache.size < maxEntries) cache.set(text, encoded);
    }
    return encoded;
  };
}

/**
 * Encodes a record's headers, one cache per header name, so a name whose values never repeat
 * (a receive time) cannot crowd out one whose values do (a topic per device).
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
