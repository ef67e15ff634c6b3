import { describe, expect, it } from 'vitest';
import { allPorts, stackPorts } from './stack-ports.ts';

describe('stackPorts', () => {
  it('gives a single node the conventional offsets', () => {
    const ports = stackPorts(19000, 1);
    expect(ports.kafka).toEqual([{ nodeId: 1, brokerPort: 19092, controllerPort: 19093 }]);
    expect(ports.questdbHttp).toBe(19000);
    expect(ports.questdbPg).toBe(19012);
    expect(ports.redis).toBe(19079);
  });

  it('gives a 3-node cluster distinct ports that never collide', () => {
    const ports = stackPorts(29000, 3);
    const values = Object.values(allPorts(ports, { questdb: true, redis: true }));
    expect(new Set(values).size).toBe(values.length);
    expect(ports.kafka.map((n) => n.brokerPort)).toEqual([29193, 29194, 29195]);
  });
});
