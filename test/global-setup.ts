/**
 * Starts the real local stack (Kafka + QuestDB + Redis) once for the integration tests and stops it
 * after the run, including when tests fail. The stack's servers are also tied to this process by a
 * watchdog, so an interrupted run (Ctrl-C, SIGKILL) leaves nothing behind. A test that stops the
 * shared Redis (stopRedis) brings it back with restartRedis(stackDir(inject('stackHome'), testStackName), ...).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startStack, stackDir, stopStack } from '../infra/stack.ts';
import { stopKafkajsIdleLoop } from '../kafka/kafkajs-idle-loop.ts';
import { processesMentioning, testPortBase, testStackName } from './test-stacks.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    questdbHttpUrl: string;
    questdbPgPort: number;
    /** redis://host:port of the shared stack's Redis (TRIBUTARY_GATEWAY_REDIS_URL). */
    redisUrl: string;
    stackHome: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The stack's readiness check uses kafkajs in this (the main vitest) process.
  stopKafkajsIdleLoop();
  const home = process.env.TRIBUTARY_HOME ?? join(homedir(), '.cache', 'tributary');
  const portBase = testPortBase;
  const name = testStackName;
  const log = (message: string): void => void process.stderr.write(`[test stack] ${message}\n`);
  const state = await startStack({
    name,
    home,
    portBase,
    brokers: 1,
    questdb: true,
    redis: true,
    fresh: true,
    ownerPid: process.pid,
    readyTimeoutMs: 180_000,
    kafkaHeapMb: 512,
    questdbHeapMb: 512,
    env: process.env,
    log,
  });
  log(`Kafka ${state.kafka.version}, QuestDB ${state.questdb?.version} and Redis ${state.redis?.version} ready after ${state.readyAfterMs?.total} ms`);
  project.provide('kafkaBrokers', state.kafka.bootstrap);
  project.provide('questdbHttpUrl', state.questdb?.httpUrl ?? '');
  project.provide('questdbPgPort', state.questdb?.pgPort ?? 0);
  project.provide('redisUrl', state.redis?.url ?? '');
  project.provide('stackHome', home);
  return async () => {
    const dir = stackDir(home, name);
    const result = await stopStack(dir, log);
    if (result.portsStillBusy.length > 0) throw new Error(`test stack left ports open: ${result.portsStillBusy.join(', ')}`);
    // Every server's command line names its files in the stack dir (Redis through its process title).
    const left = await processesMentioning(`${dir}/`);
    if (left.length > 0) throw new Error(`test stack left processes running:\n${left.join('\n')}`);
  };
}
