import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serviceV8Flags } from './v8-flags.ts';

describe('service V8 flags', () => {
  it.each(['gateway', 'enrich'])('are set by the %s command before its module is loaded', (command) => {
    const entry = readFileSync(new URL('./tributary.ts', import.meta.url), 'utf8');
    const wiring = new RegExp(`\\n  ${command}: \\{[^}]*?run: async \\(args\\) => \\{\\s*useServiceV8Flags\\(\\);\\s*return \\(await import\\('\\./commands/${command}-command\\.ts'\\)\\)`);
    expect(entry).toMatch(wiring);
  });

  it('are all known to the V8 of the Node that runs us (an unknown one is only warned about)', () => {
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of serviceV8Flags) expect(known).toContain(`  --${flag.replace(/^--(no-)?/, '')} (`);
  });
});
