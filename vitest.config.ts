import { defineConfig } from 'vitest/config';

// Unit tests run without servers. Integration tests share one real local stack (Kafka + QuestDB)
// started by test/global-setup.ts and stopped after the run, also when a test fails.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{core,api,jobs,gateway,ingest,enrich,infra,kafka,loadtest,bin,ops}/**/*.test.ts', 'test/**/*.unit.test.ts'],
          exclude: ['**/*.integration.test.ts', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.integration.test.ts'],
          exclude: ['node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
          setupFiles: ['test/quiet-warnings.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
