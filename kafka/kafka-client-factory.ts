/**
 * The product's Kafka clients (KafkaClientFactory, see core/kafka-port.ts): every producer is the
 * @platformatic/kafka adapter with its partition-acknowledged guard (ADR 0006); consumers (ADR 0012), the
 * registry follower, replay's range reader and the admin are on kafkajs.
 */
import type { Kafka } from 'kafkajs';
import type { KafkaClientFactory } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import { createKafkajsAdmin } from './kafkajs-admin.ts';
import { createKafkajsClient } from './kafkajs-client.ts';
import { createKafkajsFollower, createKafkajsGroupConsumer } from './kafkajs-consumer.ts';
import { createKafkajsRangeReader } from './kafkajs-range-reader.ts';
import { createPlatformaticProducer } from './platformatic-producer.ts';

export function createKafkaClientFactory(options: { brokers: readonly string[]; logger: Logger }): KafkaClientFactory {
  const { brokers } = options;
  const logger = options.logger.child({ component: 'kafka' });
  const kafkaFor = (clientId: string): Kafka => createKafkajsClient({ brokers, clientId, logger });
  return {
    producer: (settings) => createPlatformaticProducer({ ...settings, brokers, logger }),
    groupConsumer: ({ clientId, ...consumerOptions }) => createKafkajsGroupConsumer({ kafka: kafkaFor(clientId), logger, ...consumerOptions }),
    follower: ({ clientId, topic }) => createKafkajsFollower({ kafka: kafkaFor(clientId), logger, topic, clientId }),
    admin: ({ clientId }) => createKafkajsAdmin(kafkaFor(clientId)),
    rangeReader: ({ clientId, ...readerOptions }) => createKafkajsRangeReader({ kafka: kafkaFor(clientId), logger, clientId, ...readerOptions }),
  };
}
