/**
 * A fault the end-to-end benchmark injects into a running pipeline (`bench e2e --fault KIND`):
 * it starts at a point of the load, lasts a while, and is healed before the drain, so the run's
 * audit counts what the fault cost (lost, duplicates, phantoms) with everything else unchanged.
 * Each kind lives in a file of its own in this folder; fault-catalog.ts lists them.
 */
import type { FaultNetwork } from '../../infra/fault-network.ts';
import type { PipelineProcess } from '../pipeline-process.ts';
import type { DelayRelay } from './delay-relay.ts';

/** What a fault can reach while the load runs. */
export interface FaultEnvironment {
  kafkaBrokers: readonly string[];
  /** The run's telemetry topic (what the gateway writes and the enricher reads). */
  telemetryTopic: string;
  questdbHttpUrl: string;
  /** Server JVM pids by role, as the benchmark measures them: `kafka` (one node) or `kafka-<id>`, `questdb`. */
  serverPids: Readonly<Record<string, number>>;
  /** The local stack's directory (state.json) when it is one, for faults that restart its servers; else null. */
  stackDir: string | null;
  /** The network namespace the isolated process runs in (FaultNeeds.isolate), or null. */
  network: FaultNetwork | null;
  /** The relay between the isolated process and a server (FaultNeeds.relay), or null. */
  relay: DelayRelay | null;
  /** The pipeline processes now (a restart fault replaces them). */
  gateway(): PipelineProcess;
  enricher(): PipelineProcess | null;
  progress(line: string): void;
}

/** What the benchmark's own local stack must provide for a fault kind. */
export interface FaultNeeds {
  /** Kafka nodes (a broker fault that keeps the cluster writable needs 3). */
  brokers: 1 | 3;
  /** The fault acts on the enricher or QuestDB, so the run must include them. */
  enrich: boolean;
  /** QuestDB's root on a tmpfs of this many MiB (a fault fills it); the stack's own disk without. */
  questdbDiskMb?: number;
  /** Run this process in a network namespace of its own, with the stack on the other end of a veth pair (network faults). */
  isolate?: 'gateway' | 'enricher';
  /** The isolated process reaches this server through a delay relay in the benchmark. */
  relay?: 'kafka' | 'questdb';
}

export interface Fault {
  readonly kind: string;
  /** One line for reports: what was done to what. */
  describe(): string;
  /** Puts the fault in effect; resolves once it is. */
  inject(environment: FaultEnvironment): Promise<void>;
  /**
   * Ends it; resolves once the faulty part is back (a healed fault leaves nothing behind). Also
   * called after an `inject` that failed part-way, so it undoes only what was done.
   */
  heal(environment: FaultEnvironment): Promise<void>;
}

/** A fault with its timing in the load. */
export interface ScheduledFault {
  fault: Fault;
  /** Since the load started. */
  atMs: number;
  /** How long it stays in effect before `heal`. */
  forMs: number;
}

/** When the fault really began and ended, since the load started (null: never got there). */
export interface FaultTimeline {
  kind: string;
  description: string;
  injectedAtMs: number | null;
  healedAtMs: number | null;
  error: string | null;
  /** Stage samples (Kafka or QuestDB counts) that failed while the fault was in effect: expected, not problems. */
  samplingErrors: number;
}
