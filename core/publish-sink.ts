/**
 * What the gateway hands an accepted device publish to. The bridge (ingest/) implements it on
 * Kafka; the entry point wires the two together, so gateway/ never imports ingest/.
 */
import type { ProduceRequestTotals } from './kafka-port.ts';

export interface DevicePublish {
  deviceId: string;
  mqttTopic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** The retain flag as the device sent it (the gateway keeps no retained payloads itself). */
  retain: boolean;
  receivedAtMs: number;
}

/** Where publishes to one set of MQTT topics go; obtained once per publish from {@link PublishSink.route}. */
export interface PublishRoute {
  /**
   * Resolves once the message is durable (Kafka acknowledged with acks=all); rejects when it is
   * not, in which case the device must not get a PUBACK. Rejects with a {@link PublishRefusedError}
   * when the publish can never be forwarded (e.g. too large for its Kafka topic): the gateway refuses it.
   * A QoS 0 publish is shed rather than wait when the way to Kafka is full: it rejects with reason
   * 'queue_full' at once; a QoS 1/2 one waits for room (its send timeout runs meanwhile).
   */
  forward(publish: DevicePublish): Promise<void>;
}

export interface PublishSink {
  /** The route for a publish to `mqttTopic`, or null when no mapping rule takes it (the gateway refuses it). */
  route(mqttTopic: string): PublishRoute | null;
  /** Null when healthy, else why forwarding currently fails. */
  problem(): string | null;
  /** Records (and their bytes) forwarded and not yet settled: the sink's queue towards Kafka. */
  backlog(): { records: number; bytes: number };
  /** Kafka produce requests since start (null when the producer does not batch them itself). */
  produceRequests(): ProduceRequestTotals | null;
}

/** Why a publish is refused: the gateway's own checks (topic) or the sink's (record size, a full queue for QoS 0). */
export type PublishRefusal = 'forbidden_topic' | 'unmapped_topic' | 'record_too_large' | 'queue_full' | 'invalid_command_result';

/** A publish that can never be forwarded, whatever the retries: `reason` is the metric label and log reason. */
export class PublishRefusedError extends Error {
  readonly reason: PublishRefusal;
  constructor(reason: PublishRefusal, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishRefusedError';
    this.reason = reason;
  }
}
