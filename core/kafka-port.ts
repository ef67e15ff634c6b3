/**
 * The narrow Kafka interface the services depend on. kafka/ implements it (one producer adapter,
 * one consumer adapter, one admin), so gateway/, ingest/ and enrich/ never see a client library;
 * the client comparison in loadtest/ measures other producers through the same producer port.
 */

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface ProducerStats {
  /** Records waiting for the broker's acknowledgement (queued, in flight, or waiting for room in the queue). */
  pending: number;
  /** Their record bytes. */
  pendingBytes: number;
  /** Consecutive failed sends; 0 when the last send succeeded. */
  consecutiveFailures: number;
  lastError: string | null;
  /** Epoch ms of the last failed send, or null. */
  lastFailureAtMs: number | null;
  /** Produce requests since start, where the adapter batches them itself (null where the client does). */
  requests: ProduceRequestTotals | null;
}

/**
 * A producer's produce requests since it started: how many, the records they carried, and their
 * summed duration from being sent until their records were settled. With one request in flight,
 * records per request and seconds per request say whether batches stay small and quick or a backlog
 * grew into large, slow ones (docs/benchmarks/produce-requests.md).
 */
export interface ProduceRequestTotals {
  count: number;
  records: number;
  seconds: number;
}

/**
 * An idempotent, acks=all producer. `send` resolves once every broker in the ISR has the record,
 * and rejects (InfraError) when it could not be written within the send timeout: the caller must
 * then treat the record as not delivered.
 */
export interface KafkaProducerPort {
  /**
   * Connects. `maxMessageBytes` (topic → its max.message.bytes, from KafkaAdminPort.maxMessageBytes)
   * caps batches by bytes and makes `send` refuse a record that can never fit (KAFKA_RECORD_TOO_LARGE,
   * not retriable); for other topics only a batch Kafka rejects as too large is split.
   */
  start(options?: { maxMessageBytes?: ReadonlyMap<string, number> }): Promise<void>;
  /**
   * With `sheddable`, a record that finds the send queue at its bound (records or bytes) is
   * refused at once (KAFKA_QUEUE_FULL, retriable) instead of waiting for room.
   */
  send(record: OutgoingRecord, options?: { sheddable?: boolean }): Promise<void>;
  sendMany(records: readonly OutgoingRecord[]): Promise<void>;
  stats(): ProducerStats;
  /** Waits for in-flight sends (bounded by the send timeout), then disconnects. */
  stop(): Promise<void>;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestampMs: number;
}

export interface ConsumedBatch {
  topic: string;
  partition: number;
  records: readonly ConsumedRecord[];
}

export interface PartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to read, i.e. last processed + 1. */
  offset: string;
}

export interface GroupConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  /** How many partitions' batches may be handled at once (each partition stays in order). Default 1. */
  partitionsConcurrently?: number;
  /**
   * A fetch waits until the broker has this much new data or maxWaitMs passed (default 1 byte /
   * 1 s: answered as soon as a record arrives, and an idle consumer asks once a second): fewer,
   * larger batches cost less per record downstream, at up to maxWaitMs of latency.
   * With idleMaxWaitMs, once fetches come back empty the consumer asks for 1 byte and waits up to
   * that long instead, until records flow again: at rest it asks once per idleMaxWaitMs.
   */
  fetch?: { minBytes: number; maxWaitMs: number; idleMaxWaitMs?: number };
  /**
   * Called per partition batch, in offset order, one batch per partition at a time. Offsets are
   * committed only by `commit`, never automatically. After a batch, fetching continues from the
   * partition's committed position: a batch that was not committed is delivered again.
   */
  onBatch: (batch: ConsumedBatch, control: { isRunning: () => boolean; heartbeat: () => Promise<void> }) => Promise<void>;
  onPartitionsAssigned?: (partitions: ReadonlyArray<{ topic: string; partition: number }>) => Promise<void> | void;
  onCrash?: (error: unknown) => void;
}

export interface GroupConsumerPort {
  start(): Promise<void>;
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  lagByPartition(): Promise<Array<{ topic: string; partition: number; lag: number }>>;
  stop(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  config?: Record<string, string>;
}

export interface KafkaAdminPort {
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  /**
   * Each topic's max.message.bytes, the most bytes one record batch may have: the topic's own
   * setting, else the broker's message.max.bytes (Kafka resolves that; `source` says which).
   * Topics that do not exist are left out.
   */
  maxMessageBytes(topics: readonly string[]): Promise<Array<{ topic: string; maxMessageBytes: number; source: 'topic' | 'broker' | 'default' }>>;
  /** Whether the topic exists (without creating it). */
  topicExists(topic: string): Promise<boolean>;
  /** Latest offsets (log end) per partition. */
  endOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>>;
  /** Earliest available offsets per partition. */
  startOffsets(topic: string): Promise<Array<{ partition: number; offset: string }>>;
  /** Per partition, the first offset whose record timestamp is ≥ `timestampMs`; the log end when none is. */
  offsetsForTime(topic: string, timestampMs: number): Promise<Array<{ partition: number; offset: string }>>;
  /**
   * A consumer group's lag on a topic, per partition: the log end minus the group's committed
   * offset (`committed` null when the group committed none there: everything retained is lag).
   */
  groupLag(groupId: string, topic: string): Promise<Array<{ partition: number; committed: string | null; end: string; lag: number }>>;
  close(): Promise<void>;
}

/**
 * Reads a whole topic from the beginning (no consumer group, nothing committed) and keeps
 * following it: used for the compacted device registry. `caughtUp` resolves once every partition
 * was read up to the end offsets seen at start.
 */
export interface TopicFollowerPort {
  start(onRecord: (record: ConsumedRecord) => void): Promise<void>;
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** Offsets [fromOffset, toOffset) of one partition, as decimal strings. */
export interface PartitionRange {
  partition: number;
  fromOffset: string;
  toOffset: string;
}

/**
 * Reads fixed offset ranges of a topic's partitions once, outside any consumer group's offsets
 * (nothing is committed): replay. `read` calls `onBatch` with each partition's records in offset
 * order, one batch per partition at a time, and resolves when every range was read to its end;
 * a batch is delivered once, only records inside the range. `onBatch` throwing ends the read with
 * that error.
 */
export interface RangeReaderPort {
  read(onBatch: (batch: ConsumedBatch) => Promise<void>): Promise<void>;
  /** Ends a read early (the read resolves); safe to call at any time. */
  stop(): Promise<void>;
}

/** Settings of a producer (KafkaClientFactory.producer; the client comparison's adapters take the same). */
export interface ProducerSettings {
  clientId: string;
  /** A record not acknowledged within this long fails. */
  sendTimeoutMs: number;
  lingerMs: number;
  maxBatchRecords: number;
  /** Records queued or in flight at most; {@link defaultSendQueueBounds} when absent. */
  maxQueuedRecords?: number;
  /** Their record bytes at most; {@link defaultSendQueueBounds} when absent. */
  maxQueuedBytes?: number;
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
}

/**
 * A producer's send-queue bounds unless its settings say otherwise: far above what a steady load
 * queues (rate × one request's latency, ~1,000 records at 20,000 msg/s) and within a gateway's memory.
 */
export const defaultSendQueueBounds = { maxQueuedRecords: 50_000, maxQueuedBytes: 64 * 1024 * 1024 };

/**
 * Builds the product's Kafka clients: the one way bin/ gets a producer, a group consumer, an admin,
 * a topic follower or a range reader. Building does no I/O; each client connects in `start` (or
 * on first use) and releases its connections in `stop` / `close`.
 */
export interface KafkaClientFactory {
  producer(options: ProducerSettings): KafkaProducerPort;
  groupConsumer(options: GroupConsumerOptions & { clientId: string }): GroupConsumerPort;
  admin(options: { clientId: string }): KafkaAdminPort;
  follower(options: { clientId: string; topic: string }): TopicFollowerPort;
  rangeReader(options: { clientId: string; topic: string; ranges: readonly PartitionRange[]; partitionsConcurrently?: number }): RangeReaderPort;
}

/**
 * The group consumer's session: a member not heard from for this long loses its partitions (a
 * crashed worker's partitions move after 10 s, not Kafka's 30 s default). A worker heartbeats
 * between the attempts of a failing batch step, at most once per heartbeat interval, so one
 * attempt plus the longest backoff plus one interval must fit in the session (enrich-config checks).
 */
export const consumerSessionTimeoutMs = 10_000;
/** The shortest time between two heartbeats the group consumer sends (a heartbeat call sooner is a no-op). */
export const consumerHeartbeatIntervalMs = 1000;
