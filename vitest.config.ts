import { defineConfig } from 'vitest/config';

// Tests run the real CLI as child processes; give them time and keep the machine's 2 cores busy
// without oversubscribing DuckDB and the stage processes the tests start.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
