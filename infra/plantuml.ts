/**
 * The architecture diagrams (docs/architecture/*.puml, C4-PlantUML) and their committed SVGs:
 * rendering them with the pinned PlantUML jar (infra/artifacts.ts), and telling whether an SVG is
 * current with its source.
 *
 * "Current" is decided from the source PlantUML embeds in every SVG (`<?plantuml-src …?>`, the
 * diagram text deflated and base64-encoded), not by comparing bytes with a fresh render: the SVG's
 * text widths (`textLength`) come from the JVM's font metrics, so the same source renders to
 * different bytes on a machine with other fonts, while the embedded source does not change.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { constants, inflateRawSync } from 'node:zlib';

const run = promisify(execFile);

/** Where the diagrams live, relative to the repository root. */
export const diagramsDir = 'docs/architecture';

// PlantUML's own base64 alphabet (its text encoding for URLs and the SVG's plantuml-src).
const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';

/** The diagram text PlantUML embedded in an SVG it rendered, or null when there is none. */
export function embeddedSource(svg: string): string | null {
  const encoded = /<\?plantuml-src ([0-9A-Za-z_-]+)\?>/.exec(svg)?.[1];
  if (encoded === undefined) return null;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i += 4) {
    const [a = 0, b = 0, c = 0, d = 0] = [...encoded.slice(i, i + 4)].map((char) => alphabet.indexOf(char));
    bytes.push((a << 2) | (b >> 4), ((b << 4) | (c >> 2)) & 255, ((c << 6) | d) & 255);
  }
  // The last group is padded, so the deflate stream ends before the bytes do.
  return inflateRawSync(Buffer.from(bytes), { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8');
}

/** What PlantUML embeds of a .puml file: the lines between `@startuml` and `@enduml`, trailing blank space dropped. */
export function diagramBody(puml: string): string {
  const lines = puml.split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith('@startuml'));
  const end = lines.findIndex((line) => line.startsWith('@enduml'));
  if (start < 0 || end < start) throw new Error('a diagram must hold one @startuml … @enduml block');
  return lines.slice(start + 1, end).join('\n').trimEnd();
}

/** The PlantUML version that rendered an SVG (`<?plantuml 1.2026.8?>`), or null. */
export function renderedBy(svg: string): string | null {
  return /<\?plantuml ([^?\s]+)\?>/.exec(svg)?.[1] ?? null;
}

/**
 * Why the SVG beside a .puml file is not its current rendering by PlantUML `version`, or null when it is.
 * `svg` is null when the file is missing.
 */
export function staleness(name: string, puml: string, svg: string | null, version: string): string | null {
  const fix = 'run `npm run diagrams` and commit the SVG';
  if (svg === null) return `${name}.svg is missing: ${fix}`;
  const by = renderedBy(svg);
  if (by !== version) return `${name}.svg was rendered by PlantUML ${by ?? '(unknown)'}, not the pinned ${version}: ${fix}`;
  if (embeddedSource(svg) !== diagramBody(puml)) return `${name}.svg is not current with ${name}.puml: ${fix}`;
  return null;
}

/** Every problem of the committed diagrams in `dir`: stale or missing SVGs, SVGs without a source. */
export async function diagramProblems(dir: string, version: string): Promise<string[]> {
  const files = await readdir(dir);
  const names = (ext: string): string[] => files.filter((file) => file.endsWith(ext)).map((file) => file.slice(0, -ext.length));
  const sources = names('.puml');
  const problems = names('.svg')
    .filter((name) => !sources.includes(name))
    .map((name) => `${name}.svg has no ${name}.puml: remove it`);
  for (const name of sources) {
    const puml = await readFile(join(dir, `${name}.puml`), 'utf8');
    const svg = files.includes(`${name}.svg`) ? await readFile(join(dir, `${name}.svg`), 'utf8') : null;
    const problem = staleness(name, puml, svg, version);
    if (problem) problems.push(problem);
  }
  return problems;
}

/** The .puml files of `dir`, sorted, as paths. */
export async function diagramSources(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((file) => file.endsWith('.puml')).sort().map((file) => join(dir, file));
}

/**
 * Renders `sources` to SVG with one JVM (PlantUML starts in seconds; one run per file would multiply that),
 * into `outputDir` (absolute), or beside each source when it is omitted. Rejects when a diagram does not
 * parse, with PlantUML's message naming the file and line.
 */
export async function renderSvg(options: { javaPath: string; jar: string; sources: readonly string[]; outputDir?: string }): Promise<void> {
  const output = options.outputDir === undefined ? [] : ['-o', options.outputDir];
  try {
    // headless: no X display; smetana layout (a pragma in each file): no Graphviz.
    await run(options.javaPath, ['-Djava.awt.headless=true', '-jar', options.jar, '-tsvg', ...output, ...options.sources]);
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`PlantUML failed:\n${stderr}${stdout}`.trimEnd(), { cause: error });
  }
}
