/** The API process's own settings (the process table in bin/settings-catalog.ts adds the shared ones). */
import { intSetting } from '../core/settings.ts';

export const apiSettings = {
  httpPort: intSetting({ name: 'TRIBUTARY_API_PORT', default: 8080, min: 0, max: 65535, help: 'the API port (routes under /v1, /openapi.json, health and metrics), 0 = any free port' }),
  rateLimit: intSetting({ name: 'TRIBUTARY_API_RATE_LIMIT', default: 600, min: 1, max: 1_000_000, help: 'requests per TRIBUTARY_API_RATE_WINDOW_MS per token (callers without a valid token: per address), then 429' }),
  rateWindowMs: intSetting({ name: 'TRIBUTARY_API_RATE_WINDOW_MS', default: 60_000, min: 1000, max: 3_600_000, help: 'the rate limit window' }),
  maxBodyBytes: intSetting({ name: 'TRIBUTARY_API_MAX_BODY_BYTES', default: 262_144, min: 1024, max: 16_777_216, help: 'the largest request body taken (413 above)' }),
} as const;
