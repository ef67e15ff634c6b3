/**
 * A kafkajs class's prototype, for the run-time patches of kafkajs 2.2.4 (ADR 0011, ADR 0021): the
 * prototype exported by `modulePath` (a file inside kafkajs, not its API) when it has `method`,
 * else null, so a patch whose class changed shape in an upgrade installs nothing.
 */
import { createRequire } from 'node:module';

export function kafkajsPrototype<T>(modulePath: string, method: keyof T & string): T | null {
  try {
    const require = createRequire(import.meta.url);
    const exported = require(modulePath) as { prototype?: Partial<Record<string, unknown>> };
    const prototype = exported.prototype;
    return typeof prototype?.[method] === 'function' ? (prototype as T) : null;
  } catch {
    return null;
  }
}
