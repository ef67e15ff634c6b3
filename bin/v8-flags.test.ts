import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { v8Flags } from './v8-flags.ts';

describe('V8 flags', () => {
  it('are the first module the entry point evaluates', () => {
    const entry = readFileSync(new URL('./tributary.ts', import.meta.url), 'utf8');
    const imports = [...entry.matchAll(/^import\s.*?['"](.+?)['"];?$/gm)].map((match) => match[1]);
    expect(imports[0]).toBe('./v8-flags.ts');
  });

  it('are all known to the V8 of the Node that runs us (an unknown one is only warned about)', () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of v8Flags) expect(known).toContain(`  --${flag.replace(/^--(no-)?/, '')} (`);
  });
});
