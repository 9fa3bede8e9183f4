import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    // Builds dist/ when a source is newer (workers and the binary run from there): no test runs old code.
    globalSetup: ['./test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Component tests render Ink in-process on fake terminals; with CI set Ink would draw only
    // the last frame (the bin entry clears CI on a real terminal, src/cli.ts).
    env: { CI: 'false', CONTINUOUS_INTEGRATION: 'false' },
  },
});
