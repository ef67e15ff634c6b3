import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const entryPoint = fileURLToPath(new URL('./tributary.ts', import.meta.url));

// Each command module tree loaded by Node itself, not by the test runner's transform: an import Node
// refuses (e.g. a named export a CommonJS package does not expose to ESM) fails here, not in a long run.
describe('tributary <command> --help under Node', () => {
  it.each(['start', 'gateway', 'devices', 'api', 'tokens', 'enrich', 'replay', 'bench', 'stack', 'settings'])('%s loads and prints its usage', async (command) => {
    const { stdout } = await run(process.execPath, [entryPoint, command, '--help'], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
    expect(stdout).toMatch(/usage|Usage|TRIBUTARY_/);
  }, 30_000);
});
