import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FAST_PATH_ERROR_CODES } from '../../lambdas/contracts/events.js';
import { type HoldStatus, TAGS } from '../../lambdas/contracts/tags.js';
import { GuardFunction } from './guard-function.js';
import { grantHolds } from './guard-grants.js';
import type { HoldRegistry } from './hold-registry.js';
import { acknowledgeWildcards } from './nag-acknowledgements.js';

/** Statuses of an active hold the fast path may undo; its EnableKey and CancelKeyDeletion are conditioned on them. */
export const FAST_PATH_STATUSES: readonly HoldStatus[] = ['disabled', 'pending-deletion'];

export interface FastPathProps {
  /** The evidence e-mail goes here, as the workflow's own notifications do. */
  readonly topic: sns.ITopic;
  /** Only keys held by a running execution of this state machine are acted on. */
  readonly stateMachine: sfn.StateMachine;
  /** The stack's record of the keys it holds: only a key it records is acted on, never a key tags alone name. */
  readonly registry: HoldRegistry;
  /** The roles of the workflow's Lambdas: their own failing calls (the canary) are never evidence. */
  readonly workflowRoles: readonly iam.IRole[];
}

/**
 * The fast path: an EventBridge rule on the default bus forwards KMS CloudTrail events
 * of failed calls (`DisabledException`, `KMSInvalidStateException`) to a Lambda that gives back, within
 * minutes, a key the workflow holds. Best effort by nature (EventBridge may drop an event): the
 * polling watch stays the guarantee. Events the Lambda cannot take after retries land in the
 * dead-letter queue.
 */
export class FastPath extends Construct {
  public readonly function: GuardFunction;
  public readonly rule: events.Rule;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: FastPathProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const anyKey = stack.formatArn({ service: 'kms', region: '*', resource: 'key', resourceName: '*' });
    const statusTag = `aws:ResourceTag/${TAGS.status}`;
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${props.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.function = new GuardFunction(this, 'Function', {
      handler: 'fast-path',
      description:
        'kms-deletion-guard: on a failed KMS call, re-enable a key the workflow disabled (or cancel its deletion) and e-mail the evidence',
      statements: [
        new iam.PolicyStatement({
          actions: ['kms:DescribeKey', 'kms:ListResourceTags'],
          resources: [anyKey],
        }),
        // A second fence beside the registry: only a key whose status tag shows an active hold. A tag
        // copied onto another key passes this fence, but the registry has no hold for that key.
        new iam.PolicyStatement({
          actions: ['kms:EnableKey', 'kms:CancelKeyDeletion'],
          resources: [anyKey],
          conditions: { StringEquals: { [statusTag]: [...FAST_PATH_STATUSES] } },
        }),
        // Only the workflow's own tags, and only on keys that carry its status tag.
        new iam.PolicyStatement({
          actions: ['kms:TagResource'],
          resources: [anyKey],
          conditions: {
            Null: { [statusTag]: 'false' },
            'ForAllValues:StringLike': { 'aws:TagKeys': ['kms-deletion-guard:*'] },
          },
        }),
        new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }),
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }),
      ],
      environment: {
        KDG_TOPIC_ARN: props.topic.topicArn,
        KDG_STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        KDG_WORKFLOW_PRINCIPALS: props.workflowRoles.map((role) => role.roleArn).join(','),
        ...props.registry.environment,
      },
    });
    grantHolds(this.function, props.registry);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    // Errors of the handler itself (after Lambda's two retries) land in the same queue as events
    // EventBridge could not deliver.
    this.function.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });

    this.rule = new events.Rule(this, 'Rule', {
      description:
        'kms-deletion-guard fast path: KMS calls that failed on a disabled or pending-deletion key',
      eventPattern: {
        source: ['aws.kms'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['kms.amazonaws.com'], errorCode: [...FAST_PATH_ERROR_CODES] },
      },
      targets: [
        new targets.LambdaFunction(this.function.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
    // Decrypt, Encrypt and the other cryptographic calls are read-only management events; a rule in
    // the plain ENABLED state does not receive read-only events delivered through CloudTrail.
    (this.rule.node.defaultChild as events.CfnRule).state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

    acknowledgeWildcards(this.function, [
      {
        resource: anyKey,
        reason:
          'Any key of this account in any Region may be held by an execution; the hold registry decides, and EnableKey, CancelKeyDeletion and TagResource are conditioned on the workflow status tag as well.',
      },
      {
        resource: executions,
        reason: "DescribeExecution on this workflow's own executions, which are created at run time.",
      },
    ]);
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the fast path (EventBridge target and Lambda on-failure).',
    });
  }
}
