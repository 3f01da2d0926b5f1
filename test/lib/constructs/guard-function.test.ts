import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GuardFunction } from '../../../lib/constructs/guard-function.js';

/** A stack with one GuardFunction (bundling skipped). */
function withFunction(statements?: readonly iam.PolicyStatement[]): { stack: Stack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  new GuardFunction(stack, 'Fn', {
    handler: 'inventory',
    description: 'test',
    ...(statements ? { statements } : {}),
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The actions of every statement of the stack's policies. */
function grantedActions(template: Template): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
    .flatMap((statement: { Action: string | string[] }) => [statement.Action].flat())
    .sort();
}

describe('GuardFunction', () => {
  it('grants only writing to its own log group and tracing when given no statements', () => {
    // Act
    const { template } = withFunction();

    // Assess
    expect(grantedActions(template)).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });

  it('adds the statements it is given to its role', () => {
    // Prepare
    const statement = new iam.PolicyStatement({
      actions: ['kms:DescribeKey'],
      resources: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
    });

    // Act
    const { template } = withFunction([statement]);

    // Assess
    expect(grantedActions(template)).toContain('kms:DescribeKey');
  });

  it('has no unacknowledged cdk-nag AwsSolutions findings on its own', () => {
    // Prepare
    const { stack } = withFunction();

    // Act
    const report = new AwsSolutionsChecks(stack).validateScope(stack);

    // Assess
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
