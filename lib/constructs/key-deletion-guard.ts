import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ApprovalEndpoint } from './approval-endpoint.js';
import { CloudTrailSource } from './cloudtrail-source.js';
import { type KeyDeletionGuardConfig, type ResolvedGuardConfig, resolveGuardConfig } from './config.js';
import { FastPath } from './fast-path.js';
import { GuardFunction } from './guard-function.js';
import { acknowledgeWildcards } from './nag-acknowledgements.js';
import { Notifications } from './notifications.js';
import { WatchSchedules } from './watch-schedules.js';
import { Workflow } from './workflow.js';

export type KeyDeletionGuardProps = KeyDeletionGuardConfig;

/**
 * The whole product in one construct: the per-key workflow, its Lambdas, the approval topic and
 * the CloudTrail source. Props are the stack configuration (DESIGN §3), validated here at synth time.
 */
export class KeyDeletionGuard extends Construct {
  public readonly config: ResolvedGuardConfig;
  public readonly stateMachine: sfn.StateMachine;
  public readonly topic: Notifications['topic'];
  public readonly functions: Readonly<Record<string, GuardFunction>>;
  /** The approval page's base URL; approval e-mails link to it with `?execution=…&token=…`. */
  public readonly approvalUrl: string;

  constructor(scope: Construct, id: string, props: KeyDeletionGuardProps) {
    super(scope, id);
    this.config = resolveGuardConfig(props);
    const stack = Stack.of(this);

    const source = new CloudTrailSource(this, 'CloudTrailSource', {
      ...(this.config.cloudTrailLogGroupName ? { logGroupName: this.config.cloudTrailLogGroupName } : {}),
      createTrail: this.config.createTrail,
    });
    const notifications = new Notifications(this, 'Notifications', {
      approvalEmails: this.config.approvalEmails,
    });

    // Keys may live in any Region of this account (a key ARN of another Region is handled there);
    // never in another account, where GetKeyLastUsage does not work.
    const anyKey = stack.formatArn({ service: 'kms', region: '*', resource: 'key', resourceName: '*' });
    const condition = this.config.keyTagCondition
      ? {
          StringEquals: {
            [`aws:ResourceTag/${this.config.keyTagCondition.key}`]: this.config.keyTagCondition.value,
          },
        }
      : undefined;
    const onKeys = (actions: string[], conditional = false) =>
      new iam.PolicyStatement({
        actions,
        resources: [anyKey],
        ...(conditional && condition ? { conditions: condition } : {}),
      });
    const readKey = onKeys(['kms:DescribeKey', 'kms:ListResourceTags']);
    // The canary (one call that must fail on the held key) only on keys that carry the workflow's
    // status tag: the workflow can never encrypt, sign or derive with a key it does not hold.
    const canary = new iam.PolicyStatement({
      actions: ['kms:Encrypt', 'kms:Sign', 'kms:GenerateMac', 'kms:DeriveSharedSecret'],
      resources: [anyKey],
      conditions: {
        // TAGS.status of lambdas/domain/types.ts (constructs reference lambdas by entry path only).
        Null: { 'aws:ResourceTag/kms-deletion-guard:status': 'false' },
        ...(condition ?? {}),
      },
    });
    // Organization trails live in the management account, so the trail ARN's account is open;
    // the actions only read a trail's selectors and status.
    const anyTrail = stack.formatArn({
      service: 'cloudtrail',
      region: '*',
      account: '*',
      resource: 'trail',
      resourceName: '*',
    });
    const logGroupArn = (name: string) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const readTrail = [
      new iam.PolicyStatement({
        actions: ['logs:FilterLogEvents'],
        resources: [logGroupArn(source.logGroupName), logGroupArn(`${source.logGroupName}:*`)],
      }),
      // DescribeLogGroups authorizes on the account's log groups as a whole, not on one group.
      new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups'], resources: [logGroupArn('*')] }),
    ];

    const watchSchedules = new WatchSchedules(this, 'WatchSchedules');

    const fns = {
      assess: new GuardFunction(this, 'AssessFunction', {
        handler: 'assess',
        description:
          'kms-deletion-guard: validate input, read the key and its usage, apply the refusal rules',
        timeout: Duration.minutes(5),
        statements: [
          onKeys(['kms:DescribeKey', 'kms:ListResourceTags', 'kms:GetKeyLastUsage']),
          // ListAliases does not support resource-level permissions.
          new iam.PolicyStatement({ actions: ['kms:ListAliases'], resources: ['*'] }),
          ...readTrail,
          // The trail setup check (doctor): DescribeTrails has no resource type, the others take a trail.
          new iam.PolicyStatement({ actions: ['cloudtrail:DescribeTrails'], resources: ['*'] }),
          new iam.PolicyStatement({
            actions: ['cloudtrail:GetEventSelectors', 'cloudtrail:GetTrailStatus'],
            resources: [anyTrail],
          }),
        ],
      }),
      disable: new GuardFunction(this, 'DisableFunction', {
        handler: 'disable',
        description: 'kms-deletion-guard: tag the key as held, then disable it',
        statements: [readKey, onKeys(['kms:TagResource', 'kms:DisableKey'], true), canary],
      }),
      check: new GuardFunction(this, 'CheckFunction', {
        handler: 'check',
        description:
          'kms-deletion-guard: search CloudTrail for DisabledException on the key; schedule the next check',
        timeout: Duration.minutes(5),
        statements: [
          onKeys(['kms:DescribeKey', 'kms:ListResourceTags', 'kms:GetKeyLastUsage']),
          ...readTrail,
          canary,
          ...watchSchedules.creatorStatements(),
        ],
        environment: {
          KDG_SCHEDULE_GROUP: watchSchedules.group.scheduleGroupName,
          KDG_SCHEDULER_ROLE_ARN: watchSchedules.role.roleArn,
        },
      }),
      scheduleDeletion: new GuardFunction(this, 'ScheduleDeletionFunction', {
        handler: 'schedule-deletion',
        description: 'kms-deletion-guard: schedule the deletion of a key the workflow holds',
        // The log group too: the canaries' records must be in it before the deletion is scheduled.
        statements: [
          readKey,
          onKeys(['kms:TagResource', 'kms:ScheduleKeyDeletion'], true),
          canary,
          ...readTrail,
        ],
      }),
      restore: new GuardFunction(this, 'RestoreFunction', {
        handler: 'restore',
        description: 'kms-deletion-guard: re-enable a key this workflow disabled, or cancel its deletion',
        statements: [readKey, onKeys(['kms:TagResource', 'kms:EnableKey', 'kms:CancelKeyDeletion'])],
      }),
    };
    const approvalEndpoint = new ApprovalEndpoint(this, 'ApprovalEndpoint');
    this.approvalUrl = approvalEndpoint.url;

    const workflow = new Workflow(this, 'Workflow', {
      config: this.config,
      logGroupName: source.logGroupName,
      topic: notifications.topic,
      approvalPageUrl: approvalEndpoint.url,
      functions: {
        assess: fns.assess.function,
        disable: fns.disable.function,
        check: fns.check.function,
        scheduleDeletion: fns.scheduleDeletion.function,
        restore: fns.restore.function,
      },
    });
    this.stateMachine = workflow.stateMachine;
    this.topic = notifications.topic;
    watchSchedules.allowInvoke(fns.check.function);
    // The check chain answers, fails and heartbeats the watch's task token. A policy of its own: the
    // state machine invokes the check function, so the function's default policy cannot name it.
    const checkRole = fns.check.function.role;
    if (checkRole) {
      new iam.Policy(this, 'CheckTaskResponses', {
        roles: [checkRole],
        statements: [
          new iam.PolicyStatement({
            actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
            resources: [workflow.stateMachine.stateMachineArn],
          }),
        ],
      });
    }

    // The fast path beside the polling watch (DESIGN §2); with fastRollback off, the polling watch alone.
    const fastPath = this.config.fastRollback
      ? new FastPath(this, 'FastPath', {
          topic: notifications.topic,
          stateMachine: workflow.stateMachine,
          workflowRoles: Object.values(fns).flatMap((fn) => (fn.function.role ? [fn.function.role] : [])),
        })
      : undefined;

    // The approval page reads this workflow's execution histories and answers its task tokens; nothing
    // on keys (the decision reaches the key's tags through the workflow's own steps).
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${workflow.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const approval = new GuardFunction(this, 'ApprovalFunction', {
      handler: 'approval',
      description: 'kms-deletion-guard: approval page; shows a pending approval, records the decision',
      statements: [
        new iam.PolicyStatement({ actions: ['states:GetExecutionHistory'], resources: [executions] }),
        // The Service Authorization Reference lists no resource type for SendTaskSuccess/Failure (which
        // would mean "*"), yet Step Functions authorizes them against the state machine of the token
        // (its AccessDenied names that ARN, and CDK's grantTaskResponse scopes them so). The narrower
        // form fails closed: if it were ever refused, approvals expire and nothing is deleted.
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [workflow.stateMachine.stateMachineArn],
        }),
      ],
    });
    approvalEndpoint.connect(approval.function);
    this.functions = { ...fns, approval, ...(fastPath ? { fastPath: fastPath.function } : {}) };
    acknowledgeWildcards(approval, [
      {
        resource: executions,
        reason:
          "Execution histories of this workflow's own state machine; executions are created at run time.",
      },
      {
        resource: '*',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
      },
    ]);
    Validations.of(approval).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The handlers target Node.js 22, the runtime this project builds, tests and bundles for.',
    });

    acknowledgeWildcards(fns.assess, [
      {
        resource: anyTrail,
        reason:
          'Reads the selectors and status of whichever trail delivers to the log group; organization trails ' +
          'belong to the management account, so the trail is known only at run time.',
      },
    ]);
    acknowledgeWildcards(fns.check, [
      {
        resource: watchSchedules.scheduleArns,
        reason:
          "The next check's one-time schedule, named per execution and check at run time, in the stack's own schedule group.",
      },
    ]);
    for (const fn of Object.values(fns)) {
      acknowledgeWildcards(fn, [
        {
          resource: anyKey,
          reason:
            'The key is chosen per execution at run time, in any Region of this account; never another account. ' +
            'keyTagCondition narrows the actions that disable or delete to tagged keys.',
        },
        {
          resource: '*',
          reason:
            'X-Ray PutTraceSegments/PutTelemetryRecords and KMS ListAliases support no resource-level permissions.',
        },
        {
          resource: logGroupArn(`${source.logGroupName}:*`),
          reason: 'FilterLogEvents on the CloudTrail log group and its streams.',
        },
        {
          resource: logGroupArn('*'),
          reason: "DescribeLogGroups authorizes on the account's log groups, not on one group.",
        },
      ]);
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The handlers target Node.js 22, the runtime this project builds, tests and bundles for.',
      });
    }
  }
}
