/**
 * The API's tokens as every replica sees them: the compacted `iot.api-tokens` topic read to its end
 * before the API serves, then followed, so a token created or revoked with `tributary tokens`
 * takes effect on every replica as soon as the record is followed (within a second or so).
 */
import type { ConsumedRecord, TopicFollowerPort } from '../core/kafka-port.ts';
import type { Logger } from '../core/logger.ts';
import type { Principal } from './api-routes.ts';
import { decodeTokenRecord, verifyToken, type ApiTokenRecord } from './api-token.ts';

export interface TokenStore {
  /** Resolves when every record present at start was read. */
  start(): Promise<void>;
  get(id: string): ApiTokenRecord | undefined;
  all(): ApiTokenRecord[];
  /** The principal of a presented token string, or null (malformed, unknown, revoked, wrong secret). */
  verify(token: string): Principal | null;
  stop(): Promise<void>;
}

/** Builds the store over a follower of the tokens topic; no I/O until `start`. An undecodable record is skipped with a warning. */
export function createTokenStore(options: { follower: TopicFollowerPort; logger: Logger }): TokenStore {
  const tokens = new Map<string, ApiTokenRecord>();
  const logger = options.logger.child({ component: 'token-store' });

  const apply = (record: ConsumedRecord): void => {
    const id = record.key?.toString('utf8') ?? '';
    const decoded = decodeTokenRecord(id, record.value);
    if (!decoded.ok) {
      logger.warn({ offset: record.offset, reason: decoded.detail ?? decoded.reason }, 'skipping invalid token record');
      return;
    }
    if (decoded.value) tokens.set(id, decoded.value);
    else tokens.delete(id);
  };

  return {
    async start() {
      await options.follower.start(apply);
      await options.follower.caughtUp();
      logger.info({ tokens: tokens.size }, 'tokens loaded');
    },
    get: (id) => tokens.get(id),
    all: () => [...tokens.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id)),
    verify: (token) => verifyToken(token, (id) => tokens.get(id)),
    stop: () => options.follower.stop(),
  };
}
