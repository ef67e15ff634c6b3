/**
 * Fetches the pinned Kafka broker classpath and QuestDB jar from Maven Central into a cache outside
 * the repository (default ~/.cache/tributary/artifacts). Once cached, nothing is fetched again, so
 * the stack starts offline. Versions are pinned in infra/kafka/pom.xml and infra/questdb/pom.xml.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findMaven } from './java-tools.ts';

const run = promisify(execFile);
const infraDir = dirname(fileURLToPath(import.meta.url));
const dependencyPlugin = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies';

export interface Artifacts {
  kafkaVersion: string;
  kafkaLibDir: string;
  questdbVersion: string;
  questdbJar: string;
}

async function pinnedVersion(pom: string, property: string): Promise<string> {
  const text = await readFile(join(infraDir, pom), 'utf8');
  const match = new RegExp(`<${property}>([^<]+)</${property}>`).exec(text);
  if (!match?.[1]) throw new Error(`${pom} has no <${property}>`);
  return match[1];
}

async function fetchOnce(pom: string, targetDir: string, log: (message: string) => void): Promise<void> {
  const marker = join(targetDir, '.complete');
  if (existsSync(marker)) return;
  const mvn = await findMaven();
  log(`fetching ${pom} dependencies from Maven Central into ${targetDir} (first run only)`);
  await rm(targetDir, { recursive: true, force: true });
  await mkdir(targetDir, { recursive: true });
  try {
    await run(
      mvn,
      ['-B', '-q', '-f', join(infraDir, pom), dependencyPlugin, '-DincludeScope=runtime', `-DoutputDirectory=${targetDir}`],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    const { stdout = '' } = error as { stdout?: string };
    throw new Error(`Maven could not fetch ${pom} (is Maven Central reachable?):\n${stdout.slice(-2000)}`, { cause: error });
  }
  await writeFile(marker, new Date().toISOString());
}

export async function ensureArtifacts(cacheDir: string, log: (message: string) => void): Promise<Artifacts> {
  const kafkaVersion = await pinnedVersion('kafka/pom.xml', 'kafka.version');
  const questdbVersion = await pinnedVersion('questdb/pom.xml', 'questdb.version');
  const kafkaLibDir = join(cacheDir, `kafka-${kafkaVersion}`);
  const questdbDir = join(cacheDir, `questdb-${questdbVersion}`);
  await fetchOnce('kafka/pom.xml', kafkaLibDir, log);
  await fetchOnce('questdb/pom.xml', questdbDir, log);
  const jar = (await readdir(questdbDir)).find((name) => name === `questdb-${questdbVersion}.jar`);
  if (!jar) throw new Error(`questdb-${questdbVersion}.jar missing from ${questdbDir}; delete the folder to refetch`);
  return { kafkaVersion, kafkaLibDir, questdbVersion, questdbJar: join(questdbDir, jar) };
}
