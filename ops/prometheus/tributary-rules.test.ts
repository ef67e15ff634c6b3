import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// promtool comes from Debian's prometheus package (.ci/run installs it): the rules are checked by the
// same parser and evaluator Prometheus uses, not by a reimplementation.
const run = promisify(execFile);
const dir = new URL('.', import.meta.url).pathname;
// promtool evaluates every test case over simulated hours: seconds on a loaded machine
const timeout = 60_000;

async function promtool(...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('promtool', args, { cwd: dir }).catch((error: unknown) => {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${failed.stdout ?? ''}${failed.stderr ?? failed.message}`);
  });
  return stdout + stderr;
}

describe('alert rules (ops/prometheus/tributary-rules.yaml)', () => {
  it('parse and pass promtool check rules', async () => {
    expect(await promtool('check', 'rules', 'tributary-rules.yaml')).toMatch(/SUCCESS: \d+ rules found/);
  }, timeout);

  it('fire and stay quiet as tributary-rules.test.yaml expects (promtool test rules)', async () => {
    expect(await promtool('test', 'rules', 'tributary-rules.test.yaml')).toContain('SUCCESS');
  }, timeout);
});
