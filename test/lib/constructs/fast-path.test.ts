import { Match } from 'aws-cdk-lib/assertions';
import { ACTIVE_HOLD_STATUSES } from '../../../lambdas/contracts/tags.js';
import { FAST_PATH_STATUSES } from '../../../lib/constructs/fast-path.js';
import { synthStack, TEST_CONFIG } from '../synth.js';

const { template } = synthStack();

function fastPathStatements(): { Action: string | string[]; Condition?: unknown; Resource: unknown }[] {
  const functions = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { KDG_HANDLER: 'fast-path' } } },
  });
  const roleId = Object.values(functions)[0]?.Properties.Role['Fn::GetAtt'][0] as string;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('FastPath', () => {
  it('undoes only holds that are still active', () => {
    for (const status of FAST_PATH_STATUSES) {
      expect(ACTIVE_HOLD_STATUSES).toContain(status);
    }
  });

  it('forwards failed KMS calls of the default bus, read-only ones included, to the fast-path Lambda', () => {
    // Prepare
    const [rule] = Object.values(template.findResources('AWS::Events::Rule'));

    // Assess
    expect(rule?.Properties).toMatchObject({
      State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      EventPattern: {
        source: ['aws.kms'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          errorCode: ['DisabledException', 'KMSInvalidStateException'],
        },
      },
    });
    expect(rule?.Properties.EventBusName).toBeUndefined();
    const [target] = rule?.Properties.Targets ?? [];
    expect(JSON.stringify(target.Arn)).toContain('GuardFastPathFunction');
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 });
    expect(JSON.stringify(target.DeadLetterConfig.Arn)).toContain('GuardFastPathDeadLetterQueue');
  });

  it('keeps undeliverable events and handler failures in an encrypted, TLS-only dead-letter queue', () => {
    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('may enable or cancel deletion only of keys in an active hold, and tag only its own tags', () => {
    // Prepare
    const statements = fastPathStatements();
    const withAction = (action: string) => statements.find((s) => [s.Action].flat().includes(action));

    // Assess
    for (const action of ['kms:EnableKey', 'kms:CancelKeyDeletion']) {
      expect(withAction(action)?.Condition, action).toEqual({
        StringEquals: { 'aws:ResourceTag/kms-deletion-guard:status': ['disabled', 'pending-deletion'] },
      });
    }
    expect(withAction('kms:TagResource')?.Condition).toEqual({
      Null: { 'aws:ResourceTag/kms-deletion-guard:status': 'false' },
      'ForAllValues:StringLike': { 'aws:TagKeys': ['kms-deletion-guard:*'] },
    });
    expect(JSON.stringify(withAction('states:DescribeExecution')?.Resource)).toContain(':execution:');
    expect(withAction('sns:Publish')?.Resource).toEqual({ Ref: expect.stringMatching(/NotificationsTopic/) });
    expect(withAction('kms:DisableKey')).toBeUndefined();
    expect(withAction('kms:ScheduleKeyDeletion')).toBeUndefined();
  });

  it('tells the Lambda the topic, the state machine and the workflow roles', () => {
    // Prepare
    const [fn] = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { KDG_HANDLER: 'fast-path' } } },
      }),
    );
    const variables = fn?.Properties.Environment.Variables;

    // Assess
    expect(variables.KDG_TOPIC_ARN).toEqual({ Ref: expect.stringMatching(/NotificationsTopic/) });
    expect(variables.KDG_STATE_MACHINE_ARN).toEqual({ Ref: expect.stringMatching(/StateMachine/) });
    const principals = JSON.stringify(variables.KDG_WORKFLOW_PRINCIPALS);
    for (const role of ['CheckFunctionRole', 'DisableFunctionRole', 'RestoreFunctionRole']) {
      expect(principals).toContain(role);
    }
  });

  it('is left out with fastRollback false: the polling watch alone', () => {
    // Prepare
    const { template: pollingOnly } = synthStack({ ...TEST_CONFIG, fastRollback: false });

    // Assess
    pollingOnly.resourceCountIs('AWS::Events::Rule', 0);
    pollingOnly.resourceCountIs('AWS::SQS::Queue', 0);
    expect(
      Object.keys(
        pollingOnly.findResources('AWS::Lambda::Function', {
          Properties: { Environment: { Variables: { KDG_HANDLER: 'fast-path' } } },
        }),
      ),
    ).toEqual([]);
  });
});
