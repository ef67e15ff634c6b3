import { describe, expect, it } from 'vitest';
import { allPorts, stackPorts } from '../infra/stack-ports.ts';
import { testStackOffsets } from './test-stacks.ts';

const defaultBase = 27000;
const ephemeralStart = 32768;

describe('test stack ports', () => {
  // A stack port inside the ephemeral range can be held by any client socket of an earlier test
  // (CI once failed on 127.0.0.1:33794), so every port of every test stack stays below it.
  it('keeps every port of every test stack below the ephemeral range and apart from the others', () => {
    const owners = new Map<number, string>();
    for (const [stack, offset] of Object.entries(testStackOffsets)) {
      const base = defaultBase + offset;
      // The largest stack (3 brokers, QuestDB, Redis, the fault relay at base+94/95) or a supervised pipeline (base..base+3).
      const ports = [...Object.values(allPorts(stackPorts(base, 3), { questdb: true, redis: true })), ...Object.values(allPorts(stackPorts(base, 1), { questdb: true, redis: true })), base + 94, base + 95, base + 1, base + 2];
      for (const port of ports) {
        expect(port, `${stack} port ${port}`).toBeLessThan(ephemeralStart);
        const owner = owners.get(port);
        if (owner !== undefined && owner !== stack) expect.fail(`${stack} and ${owner} both use port ${port}`);
        owners.set(port, stack);
      }
    }
  });
});
