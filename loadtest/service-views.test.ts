import { describe, expect, it } from 'vitest';
import { gatewayViewOf } from './service-views.ts';

/** A gateway's /metrics text: `fast` acks within 5 ms, `slow` within 500 ms, `sumS` seconds in all. */
function gatewayMetrics(fast: number, slow: number, sumS: number): string {
  const name = 'tributary_gateway_puback_latency_seconds';
  return [
    `tributary_gateway_publishes_acknowledged_total ${fast + slow}`,
    `${name}_bucket{le="0.005"} ${fast}`,
    `${name}_bucket{le="0.5"} ${fast + slow}`,
    `${name}_bucket{le="+Inf"} ${fast + slow}`,
    `${name}_sum ${sumS}`,
    `${name}_count ${fast + slow}`,
  ].join('\n');
}

describe('service views', () => {
  // a warm-up: 900 fast acks and 100 slow ones; then 1000 more, all fast (2 ms each)
  const warmedUp = gatewayMetrics(900, 100, 30.9);
  const end = gatewayMetrics(1900, 100, 32.9);

  it('reads the gateway\'s ack wait since it started', () => {
    expect(gatewayViewOf(end, null)).toMatchObject({ acknowledged: 2000, ackWaitP50BoundMs: 5, ackWaitP99BoundMs: 500, ackWaitMeanMs: 16.45 });
  });

  it('leaves out what an earlier reading already held (a warm-up)', () => {
    expect(gatewayViewOf(end, warmedUp)).toMatchObject({ acknowledged: 1000, ackWaitP50BoundMs: 5, ackWaitP99BoundMs: 5, ackWaitMeanMs: 2 });
  });
});
