import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

// docs/adr/README.md is the index of the decisions: every ADR has a row, every row names an ADR that exists.
describe('ADR index', () => {
  it('lists every ADR file, and only existing ones', async () => {
    const files = (await readdir('docs/adr')).filter((file) => /^\d{4}-.+\.md$/.test(file)).sort();
    const index = await readFile('docs/adr/README.md', 'utf8');
    const rows = [...index.matchAll(/^\| \[(\d{4})\]\((\d{4}-[^)]+\.md)\) \| (.+) \|$/gm)];
    const linked = rows.map((row) => row[2]);

    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((file) => !linked.includes(file)), 'ADRs missing from docs/adr/README.md').toEqual([]);
    expect(linked.filter((file) => !files.includes(file ?? '')), 'rows linking to no ADR').toEqual([]);
    for (const [, number, file, decision] of rows) {
      expect(file?.startsWith(`${number}-`), `${file} listed as ${number}`).toBe(true);
      expect(decision?.trim().length, `${file} has no one-line decision`).toBeGreaterThan(10);
    }
  });
});
