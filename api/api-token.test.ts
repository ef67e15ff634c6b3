import { describe, expect, it } from 'vitest';
import { scopeAllows } from './api-routes.ts';
import type { Result } from '../core/result.ts';
import { decodeTokenRecord, encodeTokenRecord, issueToken, parseScopes, parseToken, verifyToken, type ApiTokenRecord } from './api-token.ts';

function issued(name = 'dashboards', scopes: Array<'read' | 'operate' | 'admin'> = ['read']): { token: string; record: ApiTokenRecord } {
  const result = issueToken({ name, scopes, nowMs: 1_700_000_000_000 });
  if (!result.ok) throw new Error(result.detail);
  return result.value;
}

/** Why a result was refused ('' when it was not). */
function detail(result: Result<unknown>): string {
  return result.ok ? '' : (result.detail ?? result.reason);
}

describe('api tokens', () => {
  it('issues trb_<id>_<secret> with a 32-byte base64url secret and stores only its SHA-256', () => {
    const { token, record } = issued();
    expect(token).toMatch(/^trb_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const parsed = parseToken(token);
    expect(parsed?.id).toBe(record.id);
    expect(Buffer.from(parsed?.secret ?? '', 'base64url')).toHaveLength(32);
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(record)).not.toContain(parsed?.secret);
    expect(record).toMatchObject({ name: 'dashboards', scopes: ['read'], createdAtMs: 1_700_000_000_000, revokedAtMs: null });
    expect(issued().token).not.toBe(token);
  });

  it('verifies the token it issued, and refuses another secret, an unknown id, a revoked token and junk', () => {
    const { token, record } = issued('ops', ['operate']);
    const lookup = (id: string): ApiTokenRecord | undefined => (id === record.id ? record : undefined);
    expect(verifyToken(token, lookup)).toEqual({ tokenId: record.id, name: 'ops', scopes: ['operate'] });
    const other = issued();
    expect(verifyToken(`trb_${record.id}_${parseToken(other.token)?.secret}`, lookup)).toBeNull();
    expect(verifyToken(other.token, lookup)).toBeNull();
    expect(verifyToken(token, () => ({ ...record, revokedAtMs: record.createdAtMs + 1 }))).toBeNull();
    for (const junk of ['', 'trb_', `${token}x`, token.replace('trb_', 'trx_'), `Bearer ${token}`]) expect(verifyToken(junk, lookup)).toBeNull();
  });

  it('round-trips a record through the topic encoding and refuses bad ones', () => {
    const { record } = issued('ci', ['read', 'admin']);
    expect(decodeTokenRecord(record.id, encodeTokenRecord(record))).toEqual({ ok: true, value: record });
    expect(decodeTokenRecord(record.id, null)).toEqual({ ok: true, value: null });
    expect(decodeTokenRecord('abc', encodeTokenRecord(record))).toMatchObject({ ok: false });
    expect(detail(decodeTokenRecord('0123456789abcdef', encodeTokenRecord(record)))).toContain('does not match');
    expect(decodeTokenRecord(record.id, Buffer.from('{'))).toMatchObject({ ok: false });
    expect(detail(decodeTokenRecord(record.id, Buffer.from(JSON.stringify({ ...record, scopes: ['root'] }))))).toContain('scopes');
    expect(() => encodeTokenRecord({ ...record, hash: 'plain' })).toThrow(/hash/);
    expect(detail(issueToken({ name: '', scopes: ['read'], nowMs: 0 }))).toContain('name');
  });

  it('parses scope lists and names every unknown scope', () => {
    expect(parseScopes('read, operate')).toEqual({ ok: true, value: ['read', 'operate'] });
    expect(detail(parseScopes('read,write,root'))).toContain('write, root');
    expect(parseScopes(' , ')).toMatchObject({ ok: false, reason: 'no_scope' });
  });

  it('lets a scope include the ones before it: admin ⊇ operate ⊇ read', () => {
    expect(scopeAllows(['read'], 'read')).toBe(true);
    expect(scopeAllows(['read'], 'operate')).toBe(false);
    expect(scopeAllows(['operate'], 'read')).toBe(true);
    expect(scopeAllows(['operate'], 'admin')).toBe(false);
    expect(scopeAllows(['admin'], 'operate')).toBe(true);
    expect(scopeAllows([], 'read')).toBe(false);
  });
});
