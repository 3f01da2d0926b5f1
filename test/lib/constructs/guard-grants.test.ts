import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GuardFunction } from '../../../lib/constructs/guard-function.js';
import { GuardGrants } from '../../../lib/constructs/guard-grants.js';
import { HoldRegistry } from '../../../lib/constructs/hold-registry.js';

/** A stack with one handler (bundling skipped) that has no grant yet. */
function withHandler(): { stack: Stack; fn: GuardFunction; grants: GuardGrants } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  const fn = new GuardFunction(stack, 'Fn', { handler: 'inventory', description: 'test' });
  return { stack, fn, grants: new GuardGrants(fn, { logGroupName: 'trail-logs' }) };
}

function findings(stack: Stack): string[] {
  return new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName);
}

describe('GuardGrants', () => {
  it.each([
    ['read', (g: GuardGrants) => g.read()],
    ['readUsage', (g: GuardGrants) => g.readUsage()],
    ['listAliases', (g: GuardGrants) => g.listAliases()],
    ['hold', (g: GuardGrants) => g.hold('kms:DisableKey')],
    ['canary', (g: GuardGrants) => g.canary()],
    ['restore', (g: GuardGrants) => g.restore()],
    ['readLogGroup', (g: GuardGrants) => g.readLogGroup()],
    ['inspectTrails', (g: GuardGrants) => g.inspectTrails()],
    ['readInventory', (g: GuardGrants) => g.readInventory()],
    ['holds', (g: GuardGrants, stack: Stack) => g.holds(new HoldRegistry(stack, 'Holds'))],
  ])('%s acknowledges the wildcard it grants, with its reason', (_name, grant) => {
    // Prepare
    const { stack, grants } = withHandler();

    // Act
    grant(grants, stack);

    // Assess
    expect(findings(stack)).toEqual([]);
  });

  it('adds the recency Deny to hold() only when minIdleDays is given', () => {
    // Prepare
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
    const environment = { KDG_HOLD_TABLE: 'holds' };
    const withIdle = new GuardFunction(stack, 'WithIdle', {
      handler: 'disable',
      description: 'test',
      environment,
    });
    const without = new GuardFunction(stack, 'Without', {
      handler: 'disable',
      description: 'test',
      environment,
    });

    // Act
    new GuardGrants(withIdle, { logGroupName: 'trail-logs', minIdleDays: 30 }).hold(
      'kms:ScheduleKeyDeletion',
    );
    new GuardGrants(without, { logGroupName: 'trail-logs' }).hold('kms:ScheduleKeyDeletion');
    const denies = (fn: GuardFunction) => {
      const policy = fn.function.role?.node.tryFindChild('DefaultPolicy') as iam.Policy;
      const document = stack.resolve(policy.document.toJSON()) as { Statement: { Effect: string }[] };
      return document.Statement.filter((statement) => statement.Effect === 'Deny');
    };

    // Assess
    expect(denies(withIdle)).toEqual([
      {
        Effect: 'Deny',
        Action: 'kms:ScheduleKeyDeletion',
        Resource: expect.anything(),
        Condition: { NumericLessThan: { 'kms:TrailingDaysWithoutKeyUsage': 30 } },
      },
    ]);
    expect(denies(without)).toEqual([]);
    expect(findings(stack)).toEqual([]);
  });

  it('leaves a wildcard that no grant added to cdk-nag', () => {
    // Prepare
    const { stack, fn } = withHandler();

    // Act
    fn.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:DescribeKey'],
        resources: ['arn:aws:kms:*:111122223333:key/*'],
      }),
    );

    // Assess
    expect(findings(stack)).toEqual(['AwsSolutions-IAM5[Resource::arn:aws:kms:*:111122223333:key/*]']);
  });
});
