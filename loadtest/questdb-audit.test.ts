import { describe, expect, it } from 'vitest';
import { parseCsvLine } from './questdb-audit.ts';

describe('CSV lines from QuestDB /exp', () => {
  it('splits plain and quoted fields', () => {
    expect(parseCsvLine('bench-000001,17,3')).toEqual(['bench-000001', '17', '3']);
    expect(parseCsvLine('"bench-000001",17,3')).toEqual(['bench-000001', '17', '3']);
    expect(parseCsvLine('"a,b","say ""hi""",')).toEqual(['a,b', 'say "hi"', '']);
  });
});
