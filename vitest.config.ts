import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One graphql instance: Pothos and Apollo load its CommonJS build, so ESM imports must too.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.scratch/**', 'dist/**', '.tools/**'],
    setupFiles: ['test/support/quiet-logs.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
