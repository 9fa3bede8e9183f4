import os from 'node:os';
import path from 'node:path';
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
    // Engines the tests start register in a registry of this run, not the user's
    // (lanes/engine/registry.ts): `--all` and `engines` in a test see only that test's engines.
    env: {
      CI: 'false',
      CONTINUOUS_INTEGRATION: 'false',
      AO_ENGINE_REGISTRY: path.join(os.tmpdir(), `ao-test-engines-${process.pid}`),
    },
  },
});
