import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FAILED_CALLS_PATTERN } from '../../../lambdas/domain/filter-pattern.js';
import { STREAM_PROOF_LAG_MS } from '../../../lambdas/domain/stream.js';
import { KeyDeletionGuardConfigError } from '../../../lib/constructs/config.js';
import { DeliveryStream } from '../../../lib/constructs/delivery-stream.js';
import { definitionOf, synthStack, TEST_CONFIG } from '../synth.js';

type Template = ReturnType<typeof synthStack>['template'];

const LOG_GROUP = TEST_CONFIG.cloudTrailLogGroupName as string;
const subscribed = synthStack({ ...TEST_CONFIG, sweep: true, sweepSubscription: true }).template;

/** The logical ID and properties of the Lambda function that runs `handler`, if any. */
function functionOf(template: Template, handler: string) {
  const found = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { KDG_HANDLER: handler } } },
  });
  const [id] = Object.keys(found);
  return id === undefined ? undefined : { id, properties: found[id]?.Properties };
}

function idOf(template: Template, handler: string): string {
  const id = functionOf(template, handler)?.id;
  if (id === undefined) throw new Error(`no function runs ${handler}`);
  return id;
}

describe('DeliveryStream', () => {
  it('subscribes the Deliveries function to the log group with the failed calls’ pattern', () => {
    // Act
    const filters = subscribed.findResources('AWS::Logs::SubscriptionFilter');

    // Assess
    expect(Object.values(filters)).toHaveLength(1);
    expect(Object.values(filters)[0]?.Properties).toEqual({
      LogGroupName: LOG_GROUP,
      FilterName: 'Test-failed-kms-calls',
      FilterPattern: FAILED_CALLS_PATTERN,
      DestinationArn: { 'Fn::GetAtt': [idOf(subscribed, 'deliveries'), 'Arn'] },
    });
  });

  it('lets CloudWatch Logs invoke the Deliveries function for that log group only, before it subscribes', () => {
    // Act
    const permissions = subscribed.findResources('AWS::Lambda::Permission', {
      Properties: { Principal: 'logs.amazonaws.com' },
    });

    // Assess
    const entries = Object.entries(permissions);
    expect(entries).toHaveLength(1);
    const [permissionId, permission] = entries[0] ?? [];
    expect(permission?.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [idOf(subscribed, 'deliveries'), 'Arn'] },
    });
    expect(JSON.stringify(permission?.Properties.SourceArn)).toContain(`:log-group:${LOG_GROUP}:*`);
    const [filter] = Object.values(subscribed.findResources('AWS::Logs::SubscriptionFilter'));
    expect(filter?.DependsOn).toContain(permissionId);
  });

  it('replaces the search sweep: no sweep function and no search schedule', () => {
    // Assess
    expect(functionOf(subscribed, 'sweep')).toBeUndefined();
    expect(functionOf(subscribed, 'deliveries')).toBeDefined();
    expect(functionOf(subscribed, 'delivery-proof')).toBeDefined();
  });

  it('is not part of a stack with the search sweep, nor of one without any sweep', () => {
    // Act
    const searched = synthStack({ ...TEST_CONFIG, sweep: true }).template;
    const plain = synthStack().template;

    // Assess
    for (const template of [searched, plain]) {
      expect(functionOf(template, 'deliveries')).toBeUndefined();
      expect(functionOf(template, 'delivery-proof')).toBeUndefined();
      template.resourceCountIs('AWS::Logs::SubscriptionFilter', 0);
    }
  });

  it('runs the proof every five minutes, with no retry of the schedule’s own', () => {
    // Assess
    subscribed.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [idOf(subscribed, 'delivery-proof'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
  });

  it('tells the proof which filter, log group and receiver to prove', () => {
    // Act
    const proof = functionOf(subscribed, 'delivery-proof');

    // Assess
    const deliveries = idOf(subscribed, 'deliveries');
    expect(proof?.properties.Environment.Variables).toMatchObject({
      KDG_LOG_GROUP: LOG_GROUP,
      KDG_SUBSCRIPTION_FILTER: 'Test-failed-kms-calls',
      KDG_DELIVERIES_FUNCTION: { Ref: deliveries },
      KDG_DELIVERIES_FUNCTION_ARN: { 'Fn::GetAtt': [deliveries, 'Arn'] },
      KDG_HOLD_TABLE: expect.anything(),
    });
  });

  it('gives the Deliveries function the ingestion lag and the workflow’s roles', () => {
    // Act
    const template = synthStack({
      ...TEST_CONFIG,
      sweep: true,
      sweepSubscription: true,
      ingestionLagMinutes: 20,
    }).template;

    // Assess
    const variables = functionOf(template, 'deliveries')?.properties.Environment.Variables;
    expect(variables).toMatchObject({ KDG_INGESTION_LAG_SECONDS: '1200', KDG_HOLD_TABLE: expect.anything() });
    const roles = JSON.stringify(variables.KDG_WORKFLOW_PRINCIPALS);
    for (const handler of ['check', 'schedule-deletion', 'disable', 'restore']) {
      const role = functionOf(template, handler)?.properties.Role['Fn::GetAtt'][0];
      expect(roles).toContain(role);
    }
  });

  it('tells the checks and ScheduleDeletion to read the subscription, and how old its proof may be', () => {
    // Act: the proof's age does not follow the search sweep's interval.
    const other = synthStack({
      ...TEST_CONFIG,
      sweep: true,
      sweepSubscription: true,
      sweepIntervalMinutes: 240,
    }).template;

    // Assess: the settle time (10 minutes), one missed proof and the next (5 minutes each), and one more.
    expect(DeliveryStream.maxAgeSeconds()).toBe(1800);
    for (const template of [subscribed, other]) {
      for (const handler of ['check', 'schedule-deletion']) {
        expect(functionOf(template, handler)?.properties.Environment.Variables).toMatchObject({
          KDG_SWEEP_SOURCE: 'subscription',
          KDG_SWEEP_MAX_AGE_SECONDS: '1800',
        });
      }
    }
  });

  it('makes the workflow wait the proof’s lag beside CloudTrail’s, while deliveries count from CloudTrail’s alone', () => {
    // Act
    const template = synthStack({
      ...TEST_CONFIG,
      sweep: true,
      sweepSubscription: true,
      ingestionLagMinutes: 20,
    }).template;
    const searched = synthStack({ ...TEST_CONFIG, sweep: true, ingestionLagMinutes: 20 }).template;

    // Assess: the workflow's configuration (AssessKey's input) carries the lag it waits.
    const lagsIn = (t: Template) =>
      [...JSON.stringify(definitionOf(t)).matchAll(/"ingestionLagMinutes":(\d+)/g)].map((m) => Number(m[1]));
    expect(STREAM_PROOF_LAG_MS).toBe(25 * 60_000);
    expect(new Set(lagsIn(template))).toEqual(new Set([45]));
    expect(new Set(lagsIn(searched))).toEqual(new Set([20]));
    expect(
      functionOf(template, 'deliveries')?.properties.Environment.Variables.KDG_INGESTION_LAG_SECONDS,
    ).toBe('1200');
  });

  it('refuses an ingestion lag that, with the proof’s, would pass the largest the workflow takes', () => {
    // Act
    const at = (ingestionLagMinutes: number) => () =>
      synthStack({ ...TEST_CONFIG, sweep: true, sweepSubscription: true, ingestionLagMinutes });

    // Assess: 720 minutes at most, 25 of them the proof's.
    expect(at(696)).toThrow(KeyDeletionGuardConfigError);
    expect(at(696)).toThrow(/at most 695; received 696/);
    expect(at(695)).not.toThrow();
  });

  it.each([
    ['left out', {}],
    ['false', { sweep: false }],
  ])('refuses sweepSubscription with sweep %s, naming both fields', (_case, sweep) => {
    // Act
    const build = () => synthStack({ ...TEST_CONFIG, ...sweep, sweepSubscription: true });

    // Assess
    expect(build).toThrow(KeyDeletionGuardConfigError);
    expect(build).toThrow(/sweepSubscription/);
    expect(build).toThrow(/sweep: true/);
  });

  it('raises the SweepFailing alarm on the proof’s errors', () => {
    // Act
    const alarms = Object.values(subscribed.findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      JSON.stringify(alarm.Properties.AlarmName).includes('SweepFailing'),
    );

    // Assess
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Threshold: 1,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(subscribed, 'delivery-proof') } }],
    });
  });
});
