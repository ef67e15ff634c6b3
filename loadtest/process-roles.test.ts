import { describe, expect, it } from 'vitest';
import { orderProcesses, processRole, restartedName } from './process-roles.ts';

describe('process roles', () => {
  it('orders roles as messages pass them, unknown ones after QuestDB, the harness last', () => {
    expect(orderProcesses(['load-generator', 'questdb', 'redis', 'kafka-10', 'kafka-2', 'enricher', 'gateway', 'gateway'])).toEqual(['gateway', 'enricher', 'kafka-2', 'kafka-10', 'questdb', 'redis', 'load-generator']);
  });

  it('counts a restarted process with its role', () => {
    expect(processRole(restartedName('gateway'))).toBe('gateway');
    expect(processRole('kafka-1')).toBe('kafka-1');
  });
});
