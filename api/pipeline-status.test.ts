import { describe, expect, it } from 'vitest';
import { parseWatchList } from './pipeline-config.ts';
import { parseReadiness, ratesBetween, readCounters } from './pipeline-status.ts';

const gatewayText = `# TYPE tributary_gateway_publishes_received_total counter
tributary_gateway_publishes_received_total{qos="0"} 100
tributary_gateway_publishes_received_total{qos="1"} 900
tributary_gateway_publishes_refused_total{reason="acl"} 5
tributary_gateway_qos0_dropped_total{reason="rate_limited"} 10
tributary_gateway_publishes_failed_total 3
`;

const enricherText = `tributary_enrich_records_consumed_total 500
tributary_enrich_rows_written_total 980
tributary_enrich_dead_lettered_total{reason="unknown_device"} 7
tributary_enrich_dead_lettered_total{reason="invalid_json"} 3
`;

describe('pipeline status', () => {
  it('reads the counters each rate comes from, summed over their labels', () => {
    expect(readCounters('gateway', gatewayText)).toEqual({ acceptedPerSec: 1000 - 5 - 10 - 3 });
    expect(readCounters('enricher', enricherText)).toEqual({ recordsPerSec: 500, rowsPerSec: 980, deadLettersPerSec: 10 });
    expect(readCounters('enricher', '')).toEqual({ recordsPerSec: 0, rowsPerSec: 0, deadLettersPerSec: 0 });
  });

  it('turns two scrapes into rates per second, null where a counter went down (a restart)', () => {
    const before = { atMs: 10_000, counters: { rowsPerSec: 100, deadLettersPerSec: 50 } };
    expect(ratesBetween(before, { atMs: 14_000, counters: { rowsPerSec: 301, deadLettersPerSec: 50 } })).toEqual({ rowsPerSec: 50.3, deadLettersPerSec: 0 });
    expect(ratesBetween(before, { atMs: 12_000, counters: { rowsPerSec: 20, deadLettersPerSec: 60 } })).toEqual({ rowsPerSec: null, deadLettersPerSec: 5 });
    expect(ratesBetween(before, { atMs: 10_000, counters: { rowsPerSec: 200 } })).toEqual({ rowsPerSec: null });
  });

  it("reads a health server's /readyz, or only its status code when the body is not ours", () => {
    expect(parseReadiness(200, '{"ready":true,"checks":{"kafka":"ok"}}')).toEqual({ ready: true, checks: { kafka: 'ok' } });
    expect(parseReadiness(503, '{"ready":false,"checks":{"kafka":"connecting"}}')).toEqual({ ready: false, checks: { kafka: 'connecting' } });
    expect(parseReadiness(503, 'Service Unavailable')).toEqual({ ready: false, checks: null });
    expect(parseReadiness(200, 'ok')).toEqual({ ready: true, checks: null });
  });

  it('takes a comma-separated list of base URLs, or none, and names every bad item', () => {
    const problems: string[] = [];
    const env = { problem: (message: string) => void problems.push(message) };
    expect(parseWatchList('http://127.0.0.1:9464/, https://gw-2:9464', 'X', env)).toEqual(['http://127.0.0.1:9464', 'https://gw-2:9464']);
    expect(parseWatchList('none', 'X', env)).toEqual([]);
    expect(problems).toEqual([]);
    expect(parseWatchList('127.0.0.1:9464,ftp://x,http://ok:1,http://q:1/?a=1', 'X', env)).toEqual(['http://ok:1']);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^X: "127.0.0.1:9464" is not an http\(s\) base URL/);
  });
});
