/**
 * What the gateway hands an accepted device publish to. The bridge (ingest/) implements it on
 * Kafka; the entry point wires the two together, so gateway/ never imports ingest/.
 */

export interface DevicePublish {
  deviceId: string;
  mqttTopic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  receivedAtMs: number;
}

export interface PublishSink {
  /** True when a mapping rule routes this MQTT topic somewhere. */
  routes(mqttTopic: string): boolean;
  /**
   * Resolves once the message is durable (Kafka acknowledged with acks=all); rejects when it is
   * not, in which case the device must not get a PUBACK.
   */
  forward(publish: DevicePublish): Promise<void>;
  /** Messages accepted but not yet acknowledged, for backpressure decisions. */
  pending(): number;
  /** Null when healthy, else why forwarding currently fails. */
  problem(): string | null;
}
