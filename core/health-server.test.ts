import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHealthEndpoints } from './health-server.ts';

describe('createHealthEndpoints', () => {
  it('exports readiness as tributary_ready, read at scrape time', async () => {
    let kafka: string | null = null;
    const endpoints = createHealthEndpoints({ registry: new Registry(), checks: () => [{ name: 'kafka', check: () => kafka }] });
    expect((await endpoints.respond('/metrics')).body).toMatch(/^tributary_ready 1$/m);
    kafka = 'no broker reachable';
    expect((await endpoints.respond('/readyz')).status).toBe(503);
    expect((await endpoints.respond('/metrics')).body).toMatch(/^tributary_ready 0$/m);
  });
});
