import { describe, expect, it } from 'vitest';
import { createStoredSessions } from './stored-sessions.ts';

describe('createStoredSessions', () => {
  it('reports a session stored by an earlier clean-session-0 CONNECT until a clean one discards it', () => {
    const sessions = createStoredSessions();
    expect(sessions.accepted('d1', false)).toBe(false);
    expect(sessions.accepted('d1', false)).toBe(true);
    expect(sessions.accepted('d2', false)).toBe(false);
    expect(sessions.accepted('d1', true)).toBe(false);
    expect(sessions.accepted('d1', false)).toBe(false);
    expect(sessions.accepted('d1', false)).toBe(true);
    expect(sessions.accepted('d2', false)).toBe(true);
  });
});
