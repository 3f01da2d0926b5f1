import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { GuardFunction } from '../../../lib/constructs/guard-function.js';
import { GuardGrants } from '../../../lib/constructs/guard-grants.js';
import { HoldRegistry } from '../../../lib/constructs/hold-registry.js';
import { Sweep } from '../../../lib/constructs/sweep.js';
import { synthStack, TEST_CONFIG } from '../synth.js';

/** The logical ID and properties of the Lambda function that runs `handler`, if any. */
function functionOf(template: ReturnType<typeof synthStack>['template'], handler: string) {
  const found = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { KDG_HANDLER: handler } } },
  });
  const [id] = Object.keys(found);
  return id === undefined ? undefined : { id, properties: found[id]?.Properties };
}

describe('Sweep', () => {
  it('is not part of the stack unless sweep is on, and the checks then search on their own', () => {
    // Act
    const { template } = synthStack();

    // Assess
    expect(functionOf(template, 'sweep')).toBeUndefined();
    const check = functionOf(template, 'check');
    expect(check?.properties.Environment.Variables.KDG_SWEEP_MAX_AGE_SECONDS).toBeUndefined();
  });

  it('runs one sweep at a time, woken every five minutes, with the settings of the watch', () => {
    // Act
    const { template } = synthStack({
      ...TEST_CONFIG,
      sweep: true,
      sweepIntervalMinutes: 30,
      ingestionLagMinutes: 20,
    });

    // Assess
    const sweep = functionOf(template, 'sweep');
    expect(sweep?.properties).toMatchObject({
      Timeout: 300,
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: {
          KDG_LOG_GROUP: 'aws-cloudtrail-logs-111122223333',
          KDG_INGESTION_LAG_SECONDS: '1200',
          KDG_SWEEP_INTERVAL_SECONDS: '1800',
          KDG_WORKFLOW_PRINCIPALS: expect.anything(),
          KDG_HOLD_TABLE: expect.anything(),
        },
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweep?.id, 'Arn'] } })],
    });
  });

  it('tells the checks and ScheduleDeletion to read its sightings, and how old they may be', () => {
    // Act
    const { template } = synthStack({ ...TEST_CONFIG, sweep: true });

    // Assess: two default intervals of 60 minutes and the five-minute rate.
    for (const handler of ['check', 'schedule-deletion']) {
      expect(functionOf(template, handler)?.properties.Environment.Variables.KDG_SWEEP_MAX_AGE_SECONDS).toBe(
        '7500',
      );
    }
  });

  it('raises an alarm when the sweep fails, and only in a stack that has one', () => {
    // Act
    const on = synthStack({ ...TEST_CONFIG, sweep: true }).template;
    const off = synthStack().template;

    // Assess
    const named = (template: typeof on) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
        JSON.stringify(alarm.Properties.AlarmName).includes('SweepFailing'),
      );
    expect(named(on)).toHaveLength(1);
    expect(named(on)[0]?.Properties).toMatchObject({ MetricName: 'Errors', Threshold: 1 });
    expect(named(off)).toHaveLength(0);
  });

  it('lets DynamoDB delete sightings items once they expire', () => {
    // Act
    const { template } = synthStack({ ...TEST_CONFIG, sweep: true });

    // Assess
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'keyArn', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it.each([1, 4, 7.5])('refuses an interval of %s minutes by name of what it received', (minutes) => {
    // Prepare
    const stack = new Stack(new App(), 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
    const registry = new HoldRegistry(stack, 'Registry');

    // Act
    const build = () =>
      new Sweep(stack, 'Sweep', {
        registry,
        logGroupName: 'trail',
        grants: (fn: GuardFunction) => new GuardGrants(fn, { logGroupName: 'trail', minIdleDays: 90 }),
        intervalMinutes: minutes,
        ingestionLagMinutes: 30,
        workflowRoles: [],
      });

    // Assess
    expect(build).toThrow(`received ${minutes}`);
  });
});
