import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const loggerModule = fileURLToPath(new URL('./logger.ts', import.meta.url));

/** Runs a process that logs one warning and prints an answer, as a one-shot command does. */
function run(to: 'stdout' | 'stderr'): { stdout: string; stderr: string } {
  const script = `
    const { createLogger } = await import(${JSON.stringify(loggerModule)});
    const logger = createLogger({ level: 'warn', name: 'cli', to: ${JSON.stringify(to)} });
    logger.warn('a retry');
    process.stdout.write('{"answer":1}\\n');
    logger.flush();`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return { stdout: child.stdout, stderr: child.stderr };
}

describe('createLogger', () => {
  it("keeps a one-shot command's stdout for its answer when told to log to stderr", () => {
    const { stdout, stderr } = run('stderr');
    expect(JSON.parse(stdout)).toEqual({ answer: 1 });
    expect(JSON.parse(stderr)).toMatchObject({ level: 40, name: 'cli', msg: 'a retry' });
  });

  it('logs to stdout by default, as services do', () => {
    const { stdout, stderr } = run('stdout');
    expect(stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toContainEqual(expect.objectContaining({ msg: 'a retry' }));
    expect(stderr).toBe('');
  });
});
