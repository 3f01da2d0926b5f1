import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globals: true,
    include: ['test/**/*.test.ts'],
    setupFiles: ['aws-cdk-lib/testhelpers/jest-autoclean'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    restoreMocks: true,
    // Vitest's default is one worker fewer than the CPUs: one worker on a two-core machine, so the
    // files that mostly wait on a child process (the bench, the package install, the browser) hold up
    // the rest. Three workers on two cores: while one waits on its child process, two keep the cores
    // busy (measured on a clean clone: the suite 402 s instead of 470 s with one worker per core).
    maxWorkers: 3,
    env: {
      // Handler tests run the SDK on Node 20; its notice about future releases is not a test result.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Handlers log structured JSON lines; a passing run prints none of them, so a failure is not
      // buried. A test that reads the logs sets its own level and captures stdout.
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    },
  },
});
