import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const helper = new URL('./exit-after-command.ts', import.meta.url).href;

/** Runs a script that sets exit code 3 and calls exitAfterCommand(lingerMs) after `body`; resolves its exit code. */
function run(body: string, lingerMs: number): Promise<number | null> {
  const source = `import { exitAfterCommand } from ${JSON.stringify(helper)};
${body}
process.exitCode = 3;
exitAfterCommand(${lingerMs});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: 'ignore' });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('exitAfterCommand', () => {
  it('ends a process that a stray handle would keep alive, with the command’s exit code', async () => {
    expect(await run('setInterval(() => {}, 1000);', 300)).toBe(3);
  }, 20_000);

  it('does not hold a process whose event loop is empty', async () => {
    const started = Date.now();
    expect(await run('', 60_000)).toBe(3);
    // Far below the linger: the timer does not keep the process alive.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
