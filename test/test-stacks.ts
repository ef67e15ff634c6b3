/**
 * Names and ports of the stacks a test run starts: the shared one (global setup) and the stacks some
 * tests start for faults they inflict (outage, broker kills, network faults). Overridable so two runs
 * can share a machine. Every port stays below Linux's ephemeral range (32768 and up), where a client
 * socket of an earlier test could hold it by chance (test-stacks.test.ts checks the defaults).
 */
import { readdir, readFile } from 'node:fs/promises';
import type { StackOptions } from '../infra/stack.ts';

export const testStackName = process.env.TRIBUTARY_TEST_STACK_NAME ?? 'test';
export const testPortBase = Number(process.env.TRIBUTARY_TEST_PORT_BASE ?? 27000);

/** Each test stack's ports start at testPortBase + its offset and use fewer than 500 ports. */
export const testStackOffsets = {
  shared: 0,
  producers: 1000,
  supervision: 1500,
  outage: 2000,
  netfaults: 2500,
  cluster: 3000,
  questdb: 3500,
  'kafka-faults': 4000,
} as const;

export type FaultStackSuffix = Exclude<keyof typeof testStackOffsets, 'shared' | 'supervision'>;

/** A stack of a test's own, tied to the test process and started fresh. */
export function faultStackOptions(options: { suffix: FaultStackSuffix; brokers: 1 | 3; home: string; kafkaHeapMb: number }): StackOptions {
  return {
    name: `${testStackName}-${options.suffix}`,
    home: options.home,
    portBase: testPortBase + testStackOffsets[options.suffix],
    brokers: options.brokers,
    questdb: false,
    redis: false,
    fresh: true,
    ownerPid: process.pid,
    readyTimeoutMs: 180_000,
    kafkaHeapMb: options.kafkaHeapMb,
    questdbHeapMb: 128,
    env: process.env,
    log: () => undefined,
  };
}

/** Other processes whose command line contains `text` (a stack's directory), each as `pid command line`; reads Linux's /proc. */
export async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const commandLine = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim();
    if (commandLine.includes(text)) found.push(`${entry} ${commandLine}`);
  }
  return found;
}
