import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePlantuml } from './artifacts.ts';
import { findJava } from './java-tools.ts';
import { diagramBody, diagramProblems, diagramSources, diagramsDir, embeddedSource, renderSvg, staleness } from './plantuml.ts';

const pinned = /<plantuml\.version>([^<]+)</.exec(await readFile('infra/plantuml/pom.xml', 'utf8'))?.[1] ?? '';
const context = {
  puml: await readFile(join(diagramsDir, 'system-context.puml'), 'utf8'),
  svg: await readFile(join(diagramsDir, 'system-context.svg'), 'utf8'),
};

describe('committed diagrams', () => {
  it('every SVG is the pinned PlantUML rendering of its current .puml', async () => {
    expect(pinned).toMatch(/^1\.\d{4}\.\d+$/);
    expect(await diagramProblems(diagramsDir, pinned)).toEqual([]);
    expect((await diagramSources(diagramsDir)).map((file) => basename(file))).toEqual(
      expect.arrayContaining(['system-context.puml', 'containers.puml']),
    );
  });

  it('a changed source, a missing SVG or another PlantUML is reported', () => {
    expect(embeddedSource(context.svg)).toBe(diagramBody(context.puml));
    const edited = context.puml.replace('title Tributary', 'title Tributary (edited)');
    expect(staleness('system-context', edited, context.svg, pinned)).toMatch(/not current with system-context\.puml/);
    expect(staleness('system-context', context.puml, null, pinned)).toMatch(/system-context\.svg is missing/);
    expect(staleness('system-context', context.puml, context.svg, '1.2017.1')).toMatch(/not the pinned 1\.2017\.1/);
    expect(embeddedSource('<svg></svg>')).toBeNull();
  });
});

describe('PlantUML renders every diagram', () => {
  let outputDir = '';
  afterAll(async () => {
    if (outputDir) await rm(outputDir, { recursive: true, force: true });
  });

  // One JVM for all diagrams plus a broken one: the committed ones must render, the broken one must be
  // named in PlantUML's error (proving a diagram that does not parse fails this test).
  it('parses and renders them, and refuses a broken diagram by name', { timeout: 180_000 }, async () => {
    const home = process.env.TRIBUTARY_HOME ?? join(homedir(), '.cache', 'tributary');
    const { plantumlJar } = await ensurePlantuml(join(home, 'artifacts'), () => {});
    const java = await findJava(process.env, 17, 'PlantUML');
    outputDir = await mkdtemp(join(tmpdir(), 'tributary-diagrams-'));
    const broken = join(outputDir, 'broken.puml');
    await writeFile(broken, '@startuml\n!pragma layout smetana\n!include <C4/C4_Context>\nPerson(a, "A")\nthis is not plantuml\n@enduml\n');
    const sources = await diagramSources(diagramsDir);
    const copies = await Promise.all(sources.map(async (file) => {
      const copy = join(outputDir, basename(file));
      await copyFile(file, copy);
      return copy;
    }));

    const failure = await renderSvg({ javaPath: java.javaPath, jar: plantumlJar, sources: [...copies, broken], outputDir }).then(
      () => new Error('PlantUML accepted a broken diagram'),
      (error: unknown) => error as Error,
    );
    const errorLines = failure.message.split('\n').filter((line) => line.startsWith('Error line'));
    expect(errorLines).toEqual([`Error line 5 in file: ${broken}`]);
    // Rendered here, each SVG embeds exactly its source: the committed SVGs are checked the same way.
    for (const file of sources) {
      const name = basename(file, '.puml');
      const fresh = await readFile(join(outputDir, `${name}.svg`), 'utf8');
      expect(staleness(name, await readFile(file, 'utf8'), fresh, pinned), name).toBeNull();
    }
  });
});
