/**
 * The options of a short end-to-end run for the integration tests (10 devices, a few seconds, every
 * audit on); each test overrides what its scenario needs.
 */
import type { E2eOptions } from '../loadtest/e2e-bench.ts';

export function smallE2eRun(where: Pick<E2eOptions, 'kafkaBrokers' | 'questdbHttpUrl' | 'logDir'>, overrides: Partial<E2eOptions> = {}): E2eOptions {
  return {
    ...where,
    devices: 10,
    ratePerSec: 200,
    durationMs: 3000,
    qos: 1,
    v2Percent: 50,
    readings: 3,
    maxInflightPerDevice: 4,
    connectConcurrency: 10,
    enrich: true,
    auditKafka: true,
    drainTimeoutMs: 90_000,
    probePollMs: 200,
    maxProbeRatePerSec: 20,
    ...overrides,
  };
}
