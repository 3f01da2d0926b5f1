#!/usr/bin/env node
/**
 * The CDK app. Configuration comes from `cdk.json` context (`kms-deletion-guard:config`), and any
 * field can be overridden on the command line: `npx cdk deploy -c approvalEmails=ops@example.com
 * -c cloudTrailLogGroupName=aws-cloudtrail-logs-111122223333 -c observationDays=45`.
 * Synth needs no AWS credentials: the stack is environment-agnostic.
 *
 * A configuration mistake is the one error a person fixes by editing a value, so it is printed as
 * one line (`Error: …`, exit 1) instead of a stack trace of the app's internals; any other error
 * is a fault of the app and keeps its stack.
 */
import { App } from 'aws-cdk-lib';
import { readGuardContext } from '../lib/app-context.js';
import { KeyDeletionGuardConfigError } from '../lib/constructs/config.js';
import { KmsDeletionGuardStack } from '../lib/index.js';

try {
  const app = new App();
  new KmsDeletionGuardStack(app, 'KmsDeletionGuard', {
    description:
      'kms-deletion-guard: delete unused KMS keys safely (disable, watch CloudTrail, approve, delete)',
    guard: readGuardContext(
      (key) => app.node.tryGetContext(key),
      Object.keys(app.node.getAllContext() as Record<string, unknown>),
    ),
  });
} catch (error) {
  if (!(error instanceof KeyDeletionGuardConfigError)) throw error;
  process.stderr.write(`Error: ${error.message}\n`);
  // Exit now: the app synthesizes on the way out, and a half-built app has nothing to synthesize.
  process.exit(1);
}
