/** Local-stack settings from the environment (read only here, in the entry point). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EnvReader } from '../core/config.ts';

export interface StackSettings {
  home: string;
  portBase: number;
  readyTimeoutMs: number;
  kafkaHeapMb: number;
  questdbHeapMb: number;
}

export function readStackSettings(env: EnvReader): StackSettings {
  return {
    home: env.string('TRIBUTARY_HOME', join(homedir(), '.cache', 'tributary')),
    portBase: env.int('TRIBUTARY_STACK_PORT_BASE', 19000, { min: 1024, max: 65000 }),
    readyTimeoutMs: env.int('TRIBUTARY_STACK_READY_TIMEOUT_MS', 180_000, { min: 1000 }),
    kafkaHeapMb: env.int('TRIBUTARY_KAFKA_HEAP_MB', 512, { min: 128 }),
    questdbHeapMb: env.int('TRIBUTARY_QUESTDB_HEAP_MB', 512, { min: 128 }),
  };
}
