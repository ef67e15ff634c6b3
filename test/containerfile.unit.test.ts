/**
 * The Containerfile cannot be built here (no container engine), so its invariants are read from it:
 * multi-stage, production dependencies only, the pinned Node 24 from package.json, a numeric non-root
 * user matching the pods' runAsUser, an entry point that exists, and an ignore file for each engine.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const repoDir = join(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(repoDir, path), 'utf8');
// Instructions with their continuation lines joined, comments dropped.
const instructions = read('Containerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
const argsOf = (keyword: string): string[] => instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

describe('Containerfile', () => {
  it('builds in one stage and runs from another, with production dependencies only', () => {
    expect(argsOf('FROM').length).toBeGreaterThanOrEqual(2);
    expect(argsOf('RUN').some((run) => /\bnpm ci\b.*--omit=dev/.test(run))).toBe(true);
    const finalStage = instructions.slice(instructions.map((instruction) => instruction.keyword).lastIndexOf('FROM'));
    expect(finalStage.some((instruction) => instruction.keyword === 'RUN' && /\bnpm\b/.test(instruction.args))).toBe(false);
    expect(finalStage.some((instruction) => instruction.keyword === 'COPY' && instruction.args.includes('--from=build'))).toBe(true);
  });

  it("runs as a numeric non-root user, the pods' runAsUser", () => {
    const users = argsOf('USER');
    const [uid, gid] = (users.at(-1) ?? '').split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    const podUsers = ['gateway', 'enrich', 'api'].map((file) => {
      const [deployment] = parseAllDocuments(read(`k8s/base/${file}.yaml`)).map((document) => document.toJS() as { spec: { template: { spec: { securityContext: { runAsUser: number } } } } });
      return deployment?.spec.template.spec.securityContext.runAsUser;
    });
    expect(podUsers).toEqual([uid, uid, uid]);
  });

  it("runs bin/tributary.ts on package.json's pinned Node 24 from node_modules", () => {
    const entrypoint = JSON.parse(argsOf('ENTRYPOINT').at(-1) ?? '[]') as string[];
    const workdir = argsOf('WORKDIR').at(-1);
    expect(workdir).toBe('/app');
    expect(entrypoint.slice(-2)).toEqual(['/app/node_modules/.bin/node', '/app/bin/tributary.ts']);
    expect(existsSync(join(repoDir, 'bin/tributary.ts'))).toBe(true);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; engines: { node: string } };
    // A dependency, not a devDependency: `npm ci --omit=dev` must install it.
    expect(pkg.dependencies.node).toMatch(/^24\./);
    expect(pkg.engines.node).toBe('>=24 <25');
  });

  it('keeps node_modules and git history out of the build context, for podman and docker alike', () => {
    const ignore = read('.containerignore');
    expect(read('.dockerignore')).toBe(ignore);
    const patterns = ignore.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(patterns).toEqual(expect.arrayContaining(['node_modules', '.git']));
  });
});
