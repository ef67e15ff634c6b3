/**
 * An idle group consumer long-polls instead of asking ten or twenty times a second.
 *
 * The enricher fetches with a large min bytes and a short max wait (256 KiB / 50 ms), so that under
 * load each fetch brings a large batch, hence fewer, larger QuestDB transactions. With nothing to
 * read, the same settings make every fetch wait its 50 ms and come back empty: 20 requests a second
 * per broker, which cost the enricher and the broker ~3 % of a core at rest (docs/benchmarks/idle.md).
 *
 * With `idleMaxWaitMs`, after a fetch from every broker came back empty the next ones ask for 1
 * byte and wait up to idleMaxWaitMs: the broker answers the moment a record arrives, so a record
 * after a quiet spell is delivered sooner than before, not later, and at rest the consumer asks
 * once per idleMaxWaitMs. As soon as a fetch brings records, the batching settings apply again.
 *
 * kafkajs 2.2.4 reads its fetch settings from the consumer group's `minBytes` and `maxWaitTime`
 * fields on every fetch, and exposes no setter: `ConsumerGroup.prototype.fetch` is wrapped once per
 * process to switch them, for the groups registered here only (docs/adr/0021-idle-fetch.md). If an
 * upgrade changes the class, nothing is wrapped and consumers keep their fixed settings.
 */
import { kafkajsPrototype } from './kafkajs-internals.ts';

export interface IdleFetchSettings {
  /** Under load: a fetch waits for this many bytes or maxWaitMs. */
  minBytes: number;
  maxWaitMs: number;
  /** After every broker answered empty: a fetch asks for 1 byte and waits up to this long. */
  idleMaxWaitMs: number;
}

interface ConsumerGroupShape {
  groupId: string;
  minBytes: number;
  maxWaitTime: number;
  fetch(nodeId: string): Promise<ReadonlyArray<{ isEmpty(): boolean }>>;
}

const idleState = Symbol('tributary.idleFetch');
type Tracked = ConsumerGroupShape & { [idleState]?: Map<string, boolean> };

const settingsByGroup = new Map<string, IdleFetchSettings>();
let installed: 'patched' | 'unpatched' | null = null;

/**
 * Makes consumers of `groupId` in this process long-poll when idle; returns whether kafkajs had the
 * expected shape. Every consumer of one group in a process shares the group's settings.
 */
export function useIdleFetch(groupId: string, settings: IdleFetchSettings): 'patched' | 'unpatched' {
  settingsByGroup.set(groupId, settings);
  return install();
}

/**
 * What the next fetch asks for, given whether each broker's last answer was empty: the idle
 * long-poll only while every broker answered empty (and at least one answered).
 */
export function nextFetch(lastEmptyByBroker: ReadonlyMap<string, boolean>, settings: IdleFetchSettings): { minBytes: number; maxWaitTime: number } {
  let idle = lastEmptyByBroker.size > 0;
  for (const empty of lastEmptyByBroker.values()) idle &&= empty;
  return idle ? { minBytes: 1, maxWaitTime: settings.idleMaxWaitMs } : { minBytes: settings.minBytes, maxWaitTime: settings.maxWaitMs };
}

function install(): 'patched' | 'unpatched' {
  if (installed !== null) return installed;
  const prototype = kafkajsPrototype<ConsumerGroupShape>('kafkajs/src/consumer/consumerGroup.js', 'fetch');
  if (prototype === null) return (installed = 'unpatched');
  const fetch = prototype.fetch;
  prototype.fetch = async function (this: Tracked, nodeId: string) {
    const settings = settingsByGroup.get(this.groupId);
    if (settings === undefined) return fetch.call(this, nodeId);
    // Fetches from several brokers run at once and read these fields; they switch together, so a
    // fetch racing a switch only gets the other mode's settings once, which delays nothing.
    const lastEmpty = (this[idleState] ??= new Map());
    Object.assign(this, nextFetch(lastEmpty, settings));
    const batches = await fetch.call(this, nodeId);
    lastEmpty.set(nodeId, batches.every((batch) => batch.isEmpty()));
    return batches;
  };
  return (installed = 'patched');
}
