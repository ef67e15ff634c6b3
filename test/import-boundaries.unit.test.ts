/**
 * The dependency direction of STYLE.md, checked: gateway/, ingest/ and enrich/ import only core/
 * and packages, never each other; core/ imports no MQTT, Kafka or QuestDB client.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rooms = ['gateway', 'ingest', 'enrich'] as const;
const clientPackages = ['aedes', 'mqtt', 'kafkajs', 'node-rdkafka', '@questdb/nodejs-client', '@platformatic/kafka'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of source.matchAll(pattern)) specifiers.push((match[1] ?? match[2])!);
  return specifiers;
}

function roomOf(file: string): string {
  return file.split('/')[0] ?? '';
}

describe('import boundaries', () => {
  it('finds imports in the forms we use', () => {
    expect(importsOf(`import { a } from '../core/x.ts';\nimport type { B } from "pkg";\nexport { c } from './c.ts';`)).toEqual(['../core/x.ts', 'pkg', './c.ts']);
  });

  it('keeps gateway/, ingest/ and enrich/ apart, and core/ free of clients', () => {
    const violations: string[] = [];
    for (const dir of [...rooms, 'core']) {
      for (const file of sourceFiles(dir)) {
        for (const specifier of importsOf(readFileSync(join(root, file), 'utf8'))) {
          if (specifier.startsWith('.')) {
            const target = relative(root, resolve(root, dirname(file), specifier));
            const targetRoom = roomOf(target);
            if (targetRoom !== dir && targetRoom !== 'core') violations.push(`${file} imports ${target}`);
          } else if (dir === 'core' && clientPackages.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
            violations.push(`${file} imports ${specifier}`);
          }
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
