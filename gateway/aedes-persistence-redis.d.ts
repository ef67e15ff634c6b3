// aedes-persistence-redis 12 ships no types: the options this gateway passes, and an opaque persistence for Aedes.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';

  interface RedisPersistenceOptions {
    conn: Redis;
    /** Seconds a stored packet lives; 0 = forever. */
    packetTTL?: (packet: { topic: string; payload: Buffer }) => number;
    maxSessionDelivery?: number;
  }

  export default function persistenceRedis(options: RedisPersistenceOptions): object;
}
