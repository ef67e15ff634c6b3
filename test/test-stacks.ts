/**
 * Names and ports of the stacks a test run starts: the shared one (global setup) and the Kafka-only
 * stacks some tests start for faults they inflict (outage, broker kills). Overridable so two runs
 * can share a machine; every offset keeps the ports below Linux's ephemeral range (32768).
 */
import type { StackOptions } from '../infra/stack.ts';

export const testStackName = process.env.TRIBUTARY_TEST_STACK_NAME ?? 'test';
export const testPortBase = Number(process.env.TRIBUTARY_TEST_PORT_BASE ?? 29000);

/** A Kafka-only stack of a test's own, tied to the test process and started fresh. */
export function faultStackOptions(options: { suffix: string; portOffset: number; brokers: 1 | 3; home: string; kafkaHeapMb: number }): StackOptions {
  return {
    name: `${testStackName}-${options.suffix}`,
    home: options.home,
    portBase: testPortBase + options.portOffset,
    brokers: options.brokers,
    questdb: false,
    fresh: true,
    ownerPid: process.pid,
    readyTimeoutMs: 180_000,
    kafkaHeapMb: options.kafkaHeapMb,
    questdbHeapMb: 128,
    env: process.env,
    log: () => undefined,
  };
}
