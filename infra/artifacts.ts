/**
 * Fetches the pinned Kafka broker classpath and QuestDB jar from Maven Central into a cache outside
 * the repository (default ~/.cache/tributary/artifacts). Once cached, nothing is fetched again, so
 * the stack starts offline. Versions are pinned in infra/kafka/pom.xml and infra/questdb/pom.xml.
 * Also Strimzi's CRDs (infra/strimzi/pom.xml), generated from its crd-generator for the k8s/ manifest test.
 * Also PlantUML (infra/plantuml/pom.xml), which renders the architecture diagrams (npm run diagrams).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { findJava, findMaven } from './java-tools.ts';

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

/** The Strimzi kinds k8s/ uses, by their generator class; each CRD lands in `<kind>.yaml`. */
const strimziKinds = {
  Kafka: 'io.strimzi.api.kafka.model.kafka.Kafka',
  KafkaNodePool: 'io.strimzi.api.kafka.model.nodepool.KafkaNodePool',
  KafkaTopic: 'io.strimzi.api.kafka.model.topic.KafkaTopic',
} as const;

export interface StrimziCrds {
  strimziVersion: string;
  /** Kind → path of its generated CustomResourceDefinition (YAML). */
  crdFiles: Record<keyof typeof strimziKinds, string>;
}

/**
 * Fetches Strimzi's crd-generator (pinned in infra/strimzi/pom.xml) and generates the CRDs of the kinds
 * k8s/ uses, once; later calls only return the paths. The generator is built for Java 21+: `env`'s
 * TRIBUTARY_JAVA_HOME / JAVA_HOME, `java` on PATH, else the newest JDK under /usr/lib/jvm.
 */
export async function ensureStrimziCrds(cacheDir: string, env: NodeJS.ProcessEnv, log: (message: string) => void): Promise<StrimziCrds> {
  const strimziVersion = await pinnedVersion('strimzi/pom.xml', 'strimzi.version');
  const libDir = join(cacheDir, `strimzi-${strimziVersion}`);
  const crdDir = join(cacheDir, `strimzi-${strimziVersion}-crds`);
  const crdFiles = Object.fromEntries(Object.keys(strimziKinds).map((kind) => [kind, join(crdDir, `${kind.toLowerCase()}.yaml`)])) as StrimziCrds['crdFiles'];
  const marker = join(crdDir, '.complete');
  if (existsSync(marker)) return { strimziVersion, crdFiles };
  await fetchOnce('strimzi/pom.xml', libDir, log);
  const java = await findJava21(env);
  log(`generating the Strimzi ${strimziVersion} CRDs into ${crdDir} (first run only)`);
  await rm(crdDir, { recursive: true, force: true });
  await mkdir(crdDir, { recursive: true });
  const outputs = Object.entries(strimziKinds).map(([kind, className]) => `${className}=${crdFiles[kind as keyof typeof strimziKinds]}`);
  await run(java, ['-cp', join(libDir, '*'), 'io.strimzi.crdgenerator.CrdGenerator', '--yaml', '--crd-api-version', 'v1', ...outputs], {
    maxBuffer: 16 * 1024 * 1024,
  });
  await writeFile(marker, new Date().toISOString());
  return { strimziVersion, crdFiles };
}

async function findJava21(env: NodeJS.ProcessEnv): Promise<string> {
  const purpose = "Strimzi's CRD generator";
  try {
    return (await findJava(env, 21, purpose)).javaPath;
  } catch (error) {
    // Debian 12 ships JDK 17 only; these machines carry a newer JDK beside it (e.g. Temurin 25).
    const jvmDir = '/usr/lib/jvm';
    const homes = existsSync(jvmDir) ? (await readdir(jvmDir)).sort().reverse() : [];
    for (const home of homes) {
      const found = await findJava({ TRIBUTARY_JAVA_HOME: join(jvmDir, home) }, 21, purpose).catch(() => null);
      if (found) return found.javaPath;
    }
    throw error;
  }
}

export interface PlantumlArtifact {
  plantumlVersion: string;
  plantumlJar: string;
}

/** The PlantUML jar that renders docs/architecture/*.puml; apart from ensureArtifacts so `stack up` never waits for it. */
export async function ensurePlantuml(cacheDir: string, log: (message: string) => void): Promise<PlantumlArtifact> {
  const plantumlVersion = await pinnedVersion('plantuml/pom.xml', 'plantuml.version');
  const dir = join(cacheDir, `plantuml-${plantumlVersion}`);
  await fetchOnce('plantuml/pom.xml', dir, log);
  const plantumlJar = join(dir, `plantuml-${plantumlVersion}.jar`);
  if (!existsSync(plantumlJar)) throw new Error(`${plantumlJar} missing; delete ${dir} to refetch`);
  return { plantumlVersion, plantumlJar };
}
