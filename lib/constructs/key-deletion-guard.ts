import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { STREAM_PROOF_LAG_MS } from '../../lambdas/domain/stream.js';
import { ApprovalEndpoint } from './approval-endpoint.js';
import { ApprovalLinks } from './approval-links.js';
import { CloudTrailSource } from './cloudtrail-source.js';
import { type KeyDeletionGuardConfig, type ResolvedGuardConfig, resolveGuardConfig } from './config.js';
import { DeliveryStream } from './delivery-stream.js';
import { FastPath } from './fast-path.js';
import { GuardFunction } from './guard-function.js';
import { GuardGrants } from './guard-grants.js';
import { HoldRegistry } from './hold-registry.js';
import { acknowledgeWildcards } from './nag-acknowledgements.js';
import { Notifications } from './notifications.js';
import { OperatorView } from './operator-view.js';
import { Sweep } from './sweep.js';
import { WatchSchedules } from './watch-schedules.js';
import { Workflow } from './workflow.js';

export type KeyDeletionGuardProps = KeyDeletionGuardConfig;

/**
 * The whole product in one construct: the per-key workflow, its Lambdas, the approval topic, the
 * CloudTrail source, the fast path and the operators' dashboard and alarms. Props are the stack
 * configuration, validated here at synth time.
 */
export class KeyDeletionGuard extends Construct {
  public readonly config: ResolvedGuardConfig;
  public readonly stateMachine: sfn.StateMachine;
  public readonly topic: Notifications['topic'];
  public readonly functions: Readonly<Record<string, GuardFunction>>;
  /** The approval page's base URL; approval e-mails link to it with `?link=<one-time secret>`. */
  public readonly approvalUrl: string;
  /** The topic of the approval e-mails (their links decide): only `approvalEmails` may subscribe. */
  public readonly approvalTopic: Notifications['approvalTopic'];
  /** The dashboard, alarms and saved queries of the team that runs the stack. */
  public readonly operatorView: OperatorView;
  /** The stack's record of the keys it holds: the authority for re-enabling a key or cancelling its deletion. */
  public readonly holdRegistry: HoldRegistry;
  /** The sweep, with `sweep: true`: one search of the log group per interval for every held key. */
  public readonly sweep: Sweep | undefined;
  /** With `sweepSubscription: true`: the sweep's source is a subscription of the log group instead. */
  public readonly deliveryStream: DeliveryStream | undefined;

  constructor(scope: Construct, id: string, props: KeyDeletionGuardProps) {
    super(scope, id);
    this.config = resolveGuardConfig(props);

    const source = new CloudTrailSource(this, 'CloudTrailSource', {
      ...(this.config.cloudTrailLogGroupName ? { logGroupName: this.config.cloudTrailLogGroupName } : {}),
      createTrail: this.config.createTrail,
    });
    const notifications = new Notifications(this, 'Notifications', {
      approvalEmails: this.config.approvalEmails,
    });
    const watchSchedules = new WatchSchedules(this, 'WatchSchedules');
    const registry = new HoldRegistry(this, 'HoldRegistry');
    this.holdRegistry = registry;
    // With a sweep, the checks and ScheduleDeletion read its sightings, and refuse ones this old.
    const sweepReaders = !this.config.sweep
      ? {}
      : this.config.sweepSubscription
        ? {
            KDG_SWEEP_MAX_AGE_SECONDS: String(DeliveryStream.maxAgeSeconds()),
            KDG_SWEEP_SOURCE: 'subscription' as const,
          }
        : { KDG_SWEEP_MAX_AGE_SECONDS: String(Sweep.maxAgeSeconds(this.config.sweepIntervalMinutes)) };
    const grant = (fn: GuardFunction) =>
      new GuardGrants(fn, {
        keyTagCondition: this.config.keyTagCondition,
        logGroupName: source.logGroupName,
        minIdleDays: this.config.minIdleDays,
      });
    // Each Lambda gets no statement at creation: each grant after it adds its statements, with the
    // acknowledgement of its wildcard.
    const assess = new GuardFunction(this, 'AssessFunction', {
      handler: 'assess',
      description: 'kms-deletion-guard: validate input, read the key and its usage, apply the refusal rules',
      timeout: Duration.minutes(5),
      environment: registry.environment,
    });
    grant(assess).readUsage().listAliases().readLogGroup().inspectTrails().readHolds(registry);
    // Pages every inventoried service of the key's Region: an account with thousands of snapshots,
    // buckets or tables needs minutes, so it gets Lambda's longest run.
    const inventoryTimeout = Duration.minutes(15);
    const inventory = new GuardFunction(this, 'InventoryFunction', {
      handler: 'inventory',
      description: 'kms-deletion-guard: read what the key protects (data at rest, grants, key policy)',
      timeout: inventoryTimeout,
      memorySize: 512,
    });
    grant(inventory).readInventory();
    const disable = new GuardFunction(this, 'DisableFunction', {
      handler: 'disable',
      description: 'kms-deletion-guard: record the hold, tag the key as held, then disable it',
      environment: registry.environment,
    });
    grant(disable).readUsage().hold('kms:DisableKey').canary().holds(registry);
    const check = new GuardFunction(this, 'CheckFunction', {
      handler: 'check',
      description:
        'kms-deletion-guard: search CloudTrail for DisabledException on the key; schedule the next check',
      timeout: Duration.minutes(5),
      environment: {
        KDG_SCHEDULE_GROUP: watchSchedules.group.scheduleGroupName,
        KDG_SCHEDULER_ROLE_ARN: watchSchedules.role.roleArn,
        ...registry.environment,
        ...sweepReaders,
      },
    });
    grant(check).readUsage().readLogGroup().canary().readHolds(registry);
    watchSchedules.grantCreate(check);
    watchSchedules.allowInvoke(check.function);
    const scheduleDeletion = new GuardFunction(this, 'ScheduleDeletionFunction', {
      handler: 'schedule-deletion',
      description: 'kms-deletion-guard: schedule the deletion of a key the workflow holds',
      environment: { ...registry.environment, ...sweepReaders },
    });
    // The log group too: the canaries' records must be in it before the deletion is scheduled.
    grant(scheduleDeletion).read().hold('kms:ScheduleKeyDeletion').canary().readLogGroup().holds(registry);
    const restore = new GuardFunction(this, 'RestoreFunction', {
      handler: 'restore',
      description: 'kms-deletion-guard: re-enable a key this workflow disabled, or cancel its deletion',
      environment: registry.environment,
    });
    grant(restore).read().restore().holds(registry);
    const approvalEndpoint = new ApprovalEndpoint(this, 'ApprovalEndpoint');
    this.approvalUrl = approvalEndpoint.url;
    const approvalLinks = new ApprovalLinks(this, 'ApprovalLinks');
    const requestApproval = new GuardFunction(this, 'RequestApprovalFunction', {
      handler: 'request-approval',
      description: 'kms-deletion-guard: make a one-time approval link and e-mail the approval request',
      environment: {
        KDG_APPROVAL_TOPIC_ARN: notifications.approvalTopic.topicArn,
        KDG_APPROVAL_URL: approvalEndpoint.url,
        KDG_APPROVAL_LINKS_TABLE: approvalLinks.table.tableName,
      },
    });
    approvalLinks.grantAdd(requestApproval);
    requestApproval.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sns:Publish'],
        resources: [notifications.approvalTopic.topicArn],
      }),
    );
    const fns = { assess, inventory, disable, check, scheduleDeletion, restore, requestApproval };

    // The subscription's deliveries are proven some minutes after they are made: for the workflow, the
    // source's lag is CloudTrail's and that.
    const workflowConfig =
      this.config.sweep && this.config.sweepSubscription
        ? {
            ...this.config,
            ingestionLagMinutes: this.config.ingestionLagMinutes + STREAM_PROOF_LAG_MS / 60_000,
          }
        : this.config;
    const workflow = new Workflow(this, 'Workflow', {
      config: workflowConfig,
      logGroupName: source.logGroupName,
      topic: notifications.topic,
      inventoryTimeout: inventoryTimeout.plus(Duration.minutes(1)),
      functions: {
        assess: fns.assess.function,
        inventory: fns.inventory.function,
        disable: fns.disable.function,
        check: fns.check.function,
        scheduleDeletion: fns.scheduleDeletion.function,
        restore: fns.restore.function,
        requestApproval: fns.requestApproval.function,
      },
    });
    this.stateMachine = workflow.stateMachine;
    this.topic = notifications.topic;
    this.approvalTopic = notifications.approvalTopic;
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

    // The fast path beside the polling watch, which stays the guarantee; with fastRollback off, the
    // polling watch alone.
    const fastPath = this.config.fastRollback
      ? new FastPath(this, 'FastPath', {
          topic: notifications.topic,
          stateMachine: workflow.stateMachine,
          registry,
          // The functions that call KMS on held keys: their calls (the canaries) are never evidence.
          workflowRoles: [assess, inventory, disable, check, scheduleDeletion, restore].flatMap((fn) =>
            fn.function.role ? [fn.function.role] : [],
          ),
        })
      : undefined;

    const sweepRoles = [disable, check, scheduleDeletion, restore].flatMap((fn) =>
      fn.function.role ? [fn.function.role] : [],
    );
    this.deliveryStream =
      this.config.sweep && this.config.sweepSubscription
        ? new DeliveryStream(this, 'DeliveryStream', {
            registry,
            logGroupName: source.logGroupName,
            grants: grant,
            ingestionLagMinutes: this.config.ingestionLagMinutes,
            workflowRoles: sweepRoles,
          })
        : undefined;
    this.sweep =
      this.config.sweep && !this.config.sweepSubscription
        ? new Sweep(this, 'Sweep', {
            registry,
            logGroupName: source.logGroupName,
            grants: grant,
            intervalMinutes: this.config.sweepIntervalMinutes,
            ingestionLagMinutes: this.config.ingestionLagMinutes,
            workflowRoles: sweepRoles,
          })
        : undefined;

    const approval = this.approvalFunction(workflow.stateMachine, approvalLinks);
    approvalEndpoint.connect(approval.function);

    // What the team that runs the stack watches; its alarms e-mail the approvers' topic through a relay.
    const monitored = (fn: GuardFunction) => ({ function: fn.function, logGroup: fn.function.logGroup });
    this.operatorView = new OperatorView(this, 'OperatorView', {
      stateMachine: workflow.stateMachine,
      executionLogGroup: workflow.executionLogGroup,
      functions: {
        assess: monitored(assess),
        disable: monitored(disable),
        check: monitored(check),
        scheduleDeletion: monitored(scheduleDeletion),
        restore: monitored(restore),
        requestApproval: monitored(requestApproval),
        approval: monitored(approval),
        ...(this.sweep ? { sweep: monitored(this.sweep.function) } : {}),
        // The proof of the deliveries fails when the subscription is broken: the same alarm.
        ...(this.deliveryStream ? { sweep: monitored(this.deliveryStream.proof) } : {}),
      },
      ...(fastPath
        ? { fastPath: { ...monitored(fastPath.function), deadLetterQueue: fastPath.deadLetterQueue } }
        : {}),
      topic: notifications.topic,
    });

    this.functions = {
      ...fns,
      approval,
      ...(fastPath ? { fastPath: fastPath.function } : {}),
      ...(this.sweep ? { sweep: this.sweep.function } : {}),
      ...(this.deliveryStream
        ? { deliveries: this.deliveryStream.deliveries, deliveryProof: this.deliveryStream.proof }
        : {}),
      ...(this.operatorView.relay ? { alarmRelay: this.operatorView.relay } : {}),
    };
  }

  /**
   * The approval page's Lambda: it redeems approval links (the link store), reads this workflow's
   * execution histories and answers its task tokens; nothing on keys (the decision reaches the key's
   * tags through the workflow's own steps).
   */
  private approvalFunction(stateMachine: sfn.StateMachine, links: ApprovalLinks): GuardFunction {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const approval = new GuardFunction(this, 'ApprovalFunction', {
      handler: 'approval',
      description: 'kms-deletion-guard: approval page; shows a pending approval, records the decision',
      environment: { KDG_APPROVAL_LINKS_TABLE: links.table.tableName },
      statements: [
        new iam.PolicyStatement({ actions: ['states:GetExecutionHistory'], resources: [executions] }),
        // The Service Authorization Reference lists no resource type for SendTaskSuccess/Failure (which
        // would mean "*"), yet Step Functions authorizes them against the state machine of the token
        // (its AccessDenied names that ARN, and CDK's grantTaskResponse scopes them so). The narrower
        // form fails closed: if it were ever refused, approvals expire and nothing is deleted.
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    });
    links.grantRedeem(approval);
    acknowledgeWildcards(approval, [
      {
        resource: executions,
        reason:
          "Execution histories of this workflow's own state machine; executions are created at run time.",
      },
    ]);
    return approval;
  }
}
