import { describe, expect, it } from 'vitest';
import { stackStopBoundMs } from '../../infra/stack.ts';
import { supervisorDeadlineMs } from './start-command.ts';

describe('supervisorDeadlineMs', () => {
  it('leaves every child its own deadline plus the kill grace, one after the other, then the stack', () => {
    expect(supervisorDeadlineMs(25_000, 2, true)).toBe(2 * 30_000 + stackStopBoundMs);
    expect(supervisorDeadlineMs(25_000, 1, false)).toBe(30_000);
    expect(supervisorDeadlineMs(25_000, 3, true)).toBe(3 * 30_000 + stackStopBoundMs);
  });
});
