/**
 * The dependency direction of STYLE.md, checked: gateway/, ingest/ and enrich/ import only core/
 * and packages, never each other; jobs/ only core/, api/ core/ and jobs/; core/ imports no MQTT, Kafka or QuestDB client; the Kafka adapters in kafka/
 * import only core/ and packages; no service code imports loadtest/ (only bin/ composes the bench).
 * Tests beside the adapters may use the test stack and the benchmark's fixtures, so the last two
 * rules read source files only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rooms = ['gateway', 'ingest', 'enrich'] as const;
const services = ['gateway', 'ingest', 'enrich', 'api', 'jobs', 'core', 'kafka', 'infra'] as const;
const clientPackages = ['aedes', 'mqtt', 'kafkajs', 'node-rdkafka', '@questdb/nodejs-client', '@platformatic/kafka'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

function isTest(file: string): boolean {
  return file.endsWith('.test.ts');
}

export function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) specifiers.push((match[1] ?? match[2] ?? match[3])!);
  return specifiers;
}

/** The folders (relative to the repository root) that a file imports from; packages are not listed. */
function localImportsOf(file: string): string[] {
  return importsOf(readFileSync(join(root, file), 'utf8'))
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => relative(root, resolve(root, dirname(file), specifier)));
}

function roomOf(file: string): string {
  return file.split('/')[0] ?? '';
}

describe('import boundaries', () => {
  it('finds imports in the forms we use', () => {
    expect(importsOf(`import { a } from '../core/x.ts';\nimport type { B } from "pkg";\nexport { c } from './c.ts';\nimport './side-effect.ts';`)).toEqual([
      '../core/x.ts',
      'pkg',
      './c.ts',
      './side-effect.ts',
    ]);
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

  it('lets jobs/ import only core/, and api/ only core/ and jobs/ (the API serves the jobs its process runs)', () => {
    const allowed: Record<string, readonly string[]> = { jobs: ['jobs', 'core'], api: ['api', 'jobs', 'core'] };
    // The command topics' client is built on core's ports alone; the commands CLI and the API share it.
    const sharedClients = new Set(['kafka/command-log.ts']);
    const violations = Object.entries(allowed).flatMap(([dir, rooms]) =>
      sourceFiles(dir)
        .filter((file) => !isTest(file))
        .flatMap((file) =>
          localImportsOf(file)
            .filter((target) => !rooms.includes(roomOf(target)) && !(dir === 'api' && sharedClients.has(target)))
            .map((target) => `${file} imports ${target}`),
        ),
    );
    expect(violations).toEqual([]);
  });

  it('lets the Kafka adapters in kafka/ import only core/ and packages', () => {
    const violations = sourceFiles('kafka')
      .filter((file) => !isTest(file))
      .flatMap((file) => localImportsOf(file).filter((target) => !['kafka', 'core'].includes(roomOf(target))).map((target) => `${file} imports ${target}`));
    expect(violations).toEqual([]);
  });

  it('never imports loadtest/ from service code (bin/ alone composes the bench commands)', () => {
    const violations = services
      .flatMap((dir) => sourceFiles(dir))
      .filter((file) => !isTest(file))
      .flatMap((file) => localImportsOf(file).filter((target) => roomOf(target) === 'loadtest').map((target) => `${file} imports ${target}`));
    expect(violations).toEqual([]);
  });
});
