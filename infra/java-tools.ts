/**
 * Finds the JDK and Maven the local stack needs, with errors that say what to install.
 * TRIBUTARY_JAVA_HOME (or JAVA_HOME) picks a JDK; otherwise `java` on PATH is used.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface JavaRuntime {
  javaPath: string;
  majorVersion: number;
  versionLine: string;
}

export class MissingToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingToolError';
  }
}

const installHint = 'On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y openjdk-17-jdk-headless maven';

export function parseJavaMajor(versionOutput: string): number | null {
  // `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` or `"1.8.0_392"` on stderr.
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return null;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

export async function findJava(env: NodeJS.ProcessEnv, minimumMajor: number, purpose: string): Promise<JavaRuntime> {
  const home = env.TRIBUTARY_JAVA_HOME ?? env.JAVA_HOME;
  const javaPath = home ? join(home, 'bin', 'java') : 'java';
  let output: string;
  try {
    const { stdout, stderr } = await run(javaPath, ['-version']);
    output = stderr + stdout;
  } catch (error) {
    throw new MissingToolError(
      `Java was not found (${javaPath}: ${(error as Error).message}). ${purpose} needs a JDK ${minimumMajor} or newer. ${installHint}`,
    );
  }
  const majorVersion = parseJavaMajor(output);
  if (majorVersion === null) throw new MissingToolError(`cannot read the Java version from: ${output.trim()}`);
  if (majorVersion < minimumMajor) {
    throw new MissingToolError(
      `${purpose} needs Java ${minimumMajor}+, but ${javaPath} is Java ${majorVersion}. Set TRIBUTARY_JAVA_HOME to a newer JDK. ${installHint}`,
    );
  }
  return { javaPath, majorVersion, versionLine: output.split('\n')[0]?.trim() ?? '' };
}

export async function findMaven(): Promise<string> {
  try {
    await run('mvn', ['-v']);
    return 'mvn';
  } catch {
    throw new MissingToolError(`Maven (mvn) was not found; it fetches Kafka and QuestDB from Maven Central. ${installHint}`);
  }
}
