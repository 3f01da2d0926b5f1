import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globals: true,
    include: ['test/**/*.test.ts'],
    setupFiles: ['aws-cdk-lib/testhelpers/jest-autoclean'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    restoreMocks: true,
    // Handler tests run the SDK on Node 20; its notice about future releases is not a test result.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
