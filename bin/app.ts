#!/usr/bin/env node
/**
 * The CDK app. Configuration comes from `cdk.json` context (`kms-deletion-guard:config`), and any
 * field can be overridden on the command line: `npx cdk deploy -c approvalEmails=ops@example.com
 * -c cloudTrailLogGroupName=aws-cloudtrail-logs-111122223333 -c observationDays=45`.
 * Synth needs no AWS credentials: the stack is environment-agnostic.
 */
import { App } from 'aws-cdk-lib';
import { readGuardContext } from '../lib/app-context.js';
import { KmsDeletionGuardStack } from '../lib/index.js';

const app = new App();
new KmsDeletionGuardStack(app, 'KmsDeletionGuard', {
  description:
    'kms-deletion-guard: delete unused KMS keys safely (disable, watch CloudTrail, approve, delete)',
  guard: readGuardContext((key) => app.node.tryGetContext(key)),
});
