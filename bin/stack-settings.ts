/** Local-stack settings: their table, and the StackSettings read from it (only here, in the entry point). */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EnvReader } from '../core/config.ts';
import { intSetting, oneOfSetting, optionalStringSetting, readSettings, stringSetting } from '../core/settings.ts';
import { questdbTunings, type QuestdbTuning } from '../infra/kafka-config.ts';

export interface StackSettings {
  home: string;
  portBase: number;
  readyTimeoutMs: number;
  kafkaHeapMb: number;
  questdbHeapMb: number;
  questdbTuning: QuestdbTuning;
}

/** Every setting the stack launcher reads (`stack`, `start`, `bench`, the test run). */
export const stackSettings = {
  home: stringSetting({ name: 'TRIBUTARY_HOME', default: join(homedir(), '.cache', 'tributary'), defaultText: '~/.cache/tributary', help: 'artifacts cache and stack data ($TRIBUTARY_HOME/stacks/<name>)' }),
  portBase: intSetting({ name: 'TRIBUTARY_STACK_PORT_BASE', default: 19000, min: 1024, max: 65000, help: 'Kafka base+92, QuestDB HTTP base, PG base+12, ILP/TCP base+9, Redis base+79' }),
  readyTimeoutMs: intSetting({ name: 'TRIBUTARY_STACK_READY_TIMEOUT_MS', default: 180_000, min: 1000, help: 'how long `stack up` waits for Kafka, QuestDB and Redis to answer' }),
  kafkaHeapMb: intSetting({ name: 'TRIBUTARY_KAFKA_HEAP_MB', default: 512, min: 128, help: 'heap of each Kafka JVM' }),
  questdbHeapMb: intSetting({ name: 'TRIBUTARY_QUESTDB_HEAP_MB', default: 512, min: 128, help: 'heap of the QuestDB JVM' }),
  questdbTuning: oneOfSetting({ name: 'TRIBUTARY_QUESTDB_TUNING', values: questdbTunings, default: 'small-box', help: "QuestDB's worker and WAL settings: small-box (shares 2 cores; docs/questdb-tuning.md) or stock (QuestDB's defaults)" }),
  // Read by infra/java-tools.ts from the environment the launcher passes on.
  javaHome: optionalStringSetting({ name: 'TRIBUTARY_JAVA_HOME', defaultText: '$JAVA_HOME, else java on PATH', help: 'the JDK that runs Kafka and QuestDB' }),
} as const;

export function readStackSettings(env: EnvReader): StackSettings {
  const { javaHome: _readByInfra, ...settings } = readSettings(env, stackSettings);
  return settings;
}
