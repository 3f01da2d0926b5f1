/*
 * The per-key workflow (DESIGN §2). One Standard execution per key; JSONPath throughout.
 *
 *  1. Start                    wraps the raw input as $.input, so even non-object input is answered.
 *  2. AssessKey                validates input, reads the key, classifies usage, applies the refusal rules.
 *                              Error after retries -> AbortedUnchanged (ABORTED, nothing changed).
 *  3. IsRefused                REFUSED -> NotifyRefused -> Refused (REFUSED, nothing changed).
 *  4. RequestDisableApproval   e-mail with the assessment, waits for a task token.
 *                              Rejected -> DisableRejected (REJECTED); timeout -> DisableApprovalExpired
 *                              (APPROVAL_EXPIRED); other error -> AbortedUnchanged. Nothing changed on any.
 *  5. DisableKey               tags the key as held, then disables it.     Error -> Restore.
 *  6. WatchForBreakage         one task-token state for the whole observation. The check function runs
 *                              every checkInterval as a chain of one-time EventBridge Scheduler schedules
 *                              (CheckForBreakage), heartbeats the token and answers it -> ObservationVerdict.
 *                              Breakage -> RollBack -> NotifyRolledBack -> RolledBack (ROLLED_BACK).
 *                              Key changed by someone else, log group missing, blind source, any error
 *                              (SendTaskFailure), a missed heartbeat or the timeout -> Restore.
 *  7. WaitForFinalCheck -> FinalCheck (after observationDays + ingestionLag)
 *                              Breakage or use after disable -> RollBack; error -> Restore.
 *  8. RequestDeletionApproval  e-mail with the observation report, waits for a task token.
 *                              Rejected -> RestoreAfterRejection (REJECTED, key restored);
 *                              timeout -> RestoreAfterExpiry (APPROVAL_EXPIRED, key restored); error -> Restore.
 *  9. ScheduleDeletion         ScheduleKeyDeletion with the pending window.   Error -> Restore.
 * 10. Pending watch (if watchPendingWindow) WatchPendingUse, the same chain (CheckPendingUse) -> PendingVerdict.
 *                              Use -> CancelDeletion -> NotifyDeletionCancelled -> DeletionCancelled
 *                              (DELETION_CANCELLED, key left Disabled); error, heartbeat, timeout -> Restore.
 *                              A watch answer that is neither breakage nor done -> Restore (WatchIncomplete).
 * 11. DeletionScheduled        the window ended with no use: KMS deletes the key (DELETION_SCHEDULED).
 * Restore (ABORT) re-enables the key only if this execution disabled it (the key's tags say so) and
 * cancels a deletion only if this execution scheduled it -> NotifyAborted -> Aborted (ABORTED).
 * If Restore itself keeps failing -> NotifyRestoreFailed -> RestoreFailed (ABORTED, manual action named).
 * Fast path (lib/constructs/fast-path.ts): an EventBridge-invoked Lambda may give the key back between
 * two checks. The next check then finds the key changed and fails the watch, which goes to Restore; every restore step reads
 * the key's tags, and when the fast path ended the hold (<Step>Verdict) the run takes the fast path's
 * record as evidence (TakeFastPathEvidence) and ends ROLLED_BACK or DELETION_CANCELLED (FastPathOutcome),
 * e-mailing only if the fast path could not. The execution is not woken early: see lambdas/fast-path.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ResolvedGuardConfig } from './config.js';

/** The Lambdas the workflow calls, by role. */
export interface WorkflowFunctions {
  readonly assess: lambda.IFunction;
  readonly disable: lambda.IFunction;
  readonly check: lambda.IFunction;
  readonly scheduleDeletion: lambda.IFunction;
  readonly restore: lambda.IFunction;
}

export interface WorkflowProps {
  /** The validated stack configuration; it is embedded in the definition, not in Lambda environments. */
  readonly config: ResolvedGuardConfig;
  /** The CloudTrail log group the checks read. */
  readonly logGroupName: string;
  readonly functions: WorkflowFunctions;
  /** Approval requests and evidence e-mails go here. */
  readonly topic: sns.ITopic;
  /** The approval page (ApprovalEndpoint.url); each approval e-mail links to it with its execution and token. */
  readonly approvalPageUrl: string;
}

/** Errors a handler throws that a later attempt can fix (KMS, CloudWatch Logs and Lambda itself). */
export const TRANSIENT_ERRORS = [
  'ThrottlingException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'ServiceUnavailableException',
  'LimitExceededException',
  'TimeoutError',
] as const;
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;
const SNS_TRANSIENT_ERRORS = [
  'SNS.ThrottledException',
  'SNS.InternalErrorException',
  'SNS.KMSThrottlingException',
];

/** The execution roles of the Lambdas that call KMS on the key (the canary makers among them). */
function workflowPrincipalArns(functions: WorkflowFunctions): string[] {
  return [functions.disable, functions.check, functions.scheduleDeletion, functions.restore].flatMap((fn) =>
    fn.role ? [fn.role.roleArn] : [],
  );
}

/** Error name used with SendTaskFailure to reject an approval. */
export const APPROVAL_REJECTED = 'ApprovalRejected';

export class Workflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const { config, functions, topic } = props;
    const execution = sfn.JsonPath.stringAt('$$.Execution.Id');

    const invoke = (
      name: string,
      fn: lambda.IFunction,
      payload: Record<string, unknown>,
      resultPath: string,
    ): tasks.LambdaInvoke => {
      const task = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject({ executionArn: execution, ...payload }),
        payloadResponseOnly: false,
        resultSelector: { 'value.$': '$.Payload' },
        resultPath,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(5)),
      });
      task.addRetry({
        errors: [...LAMBDA_SERVICE_ERRORS],
        interval: Duration.seconds(2),
        maxAttempts: 6,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      task.addRetry({
        errors: [...TRANSIENT_ERRORS],
        interval: Duration.seconds(5),
        maxAttempts: 6,
        backoffRate: 2,
        maxDelay: Duration.minutes(5),
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    const notify = (
      name: string,
      kind: string,
      subjectPath: string,
      messagePath: string,
    ): tasks.SnsPublish => {
      const task = new tasks.SnsPublish(this, name, {
        stateName: name,
        topic,
        subject: sfn.JsonPath.stringAt(subjectPath),
        message: sfn.TaskInput.fromJsonPathAt(messagePath),
        messageAttributes: {
          kind: { value: kind },
          execution: { value: execution },
        },
        resultPath: sfn.JsonPath.DISCARD,
      });
      task.addRetry({
        errors: SNS_TRANSIENT_ERRORS,
        interval: Duration.seconds(2),
        maxAttempts: 5,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    const approval = (name: string, step: 'disable' | 'deletion', subjectPath: string, textPath: string) => {
      const task = new tasks.SnsPublish(this, name, {
        stateName: name,
        topic,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        subject: sfn.JsonPath.stringAt(subjectPath),
        // The link carries the execution and the token; opening it only shows the request, a POST from
        // the page decides. States.Format cannot URL-encode: the page accepts the raw ARN and restores
        // the token's '+' that query decoding turns into a space. The token also travels in an
        // attribute, where the page and the CLI find it in the execution history.
        message: sfn.TaskInput.fromText(
          sfn.JsonPath.format(
            '{}\n\nOpen this page to approve or reject (the link itself decides nothing): {}?execution={}&token={}',
            sfn.JsonPath.stringAt(textPath),
            props.approvalPageUrl,
            execution,
            sfn.JsonPath.taskToken,
          ),
        ),
        messageAttributes: {
          kind: { value: 'approval-request' },
          step: { value: step },
          execution: { value: execution },
          taskToken: { value: sfn.JsonPath.taskToken },
        },
        taskTimeout: sfn.Timeout.duration(Duration.days(config.approvalTimeoutDays)),
        resultPath: `$.${step}Approval`,
      });
      task.addRetry({
        errors: SNS_TRANSIENT_ERRORS,
        interval: Duration.seconds(2),
        maxAttempts: 5,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      return task;
    };

    // --- Endings -------------------------------------------------------------------------------
    // CausePath takes a path only in the local engine, so the cause text is built by a Pass first.
    const abortedUnchanged = new sfn.Pass(this, 'PrepareAbortedUnchanged', {
      stateName: 'PrepareAbortedUnchanged',
      parameters: {
        causeText: sfn.JsonPath.format(
          'WORKFLOW_ERROR: {} before the key was changed; nothing was changed.',
          sfn.JsonPath.stringAt('$.error.Error'),
        ),
      },
      resultPath: '$.abort',
    }).next(
      new sfn.Fail(this, 'AbortedUnchanged', {
        stateName: 'AbortedUnchanged',
        error: 'ABORTED',
        causePath: sfn.JsonPath.stringAt('$.abort.causeText'),
      }),
    );

    // A restore that cannot finish still ends away from deletion, and says what to do by hand.
    const restoreFailed = notify(
      'NotifyRestoreFailed',
      'restore-failed',
      '$.failureNotice.subject',
      '$.failureNotice.message',
    ).next(
      new sfn.Fail(this, 'RestoreFailed', {
        stateName: 'RestoreFailed',
        error: 'ABORTED',
        cause:
          'RESTORE_FAILED: the workflow could not restore the key; check its kms-deletion-guard:* tags and enable it or cancel its deletion by hand.',
      }),
    );
    const failureNotice = new sfn.Pass(this, 'PrepareRestoreFailedNotice', {
      stateName: 'PrepareRestoreFailedNotice',
      parameters: {
        subject: 'ACTION NEEDED: kms-deletion-guard could not restore a KMS key',
        message: sfn.JsonPath.format(
          'The execution {} could not restore the KMS key {} after an error ({}: {}). The key may still be disabled or pending deletion. Check the key now: enable it (aws kms enable-key) or cancel its deletion (aws kms cancel-key-deletion) if it is still needed.',
          execution,
          sfn.JsonPath.stringAt('$.assessment.value.key.keyArn'),
          sfn.JsonPath.stringAt('$.restoreError.Error'),
          sfn.JsonPath.stringAt('$.restoreError.Cause'),
        ),
      },
      resultPath: '$.failureNotice',
    }).next(restoreFailed);

    const restoreStep = (
      name: string,
      mode: 'ROLLBACK' | 'CANCEL_DELETION' | 'ABORT',
      outcome: string,
      notifyName: string,
      failName: string,
      kind: string,
    ): tasks.LambdaInvoke => {
      const task = invoke(
        name,
        functions.restore,
        {
          mode,
          outcome,
          assessment: sfn.JsonPath.objectAt('$.assessment.value'),
          watch: sfn.JsonPath.objectAt('$.watch.value'),
          error: sfn.JsonPath.objectAt('$.error'),
        },
        '$.restore',
      );
      task.addRetry({
        errors: ['States.ALL'],
        interval: Duration.seconds(30),
        maxAttempts: 5,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      task.addCatch(failureNotice, { errors: ['States.ALL'], resultPath: '$.restoreError' });
      const notifyState = notify(notifyName, kind, '$.restore.value.subject', '$.restore.value.messageText');
      const fail = new sfn.Fail(this, failName, {
        stateName: failName,
        error: outcome,
        causePath: sfn.JsonPath.stringAt('$.restore.value.causeText'),
      });
      notifyState.next(fail);
      endings.set(outcome, { notify: notifyState, fail });
      // The fast path may have undone the hold before this step ran (the check then found the key
      // changed) or while it ran: the step reports it, and the run ends with the fast path's outcome.
      task.next(
        new sfn.Choice(this, `${name}Verdict`, { stateName: `${name}Verdict` })
          .when(sfn.Condition.isPresent('$.restore.value.fastPath.outcome'), takeFastPathEvidence)
          .otherwise(notifyState),
      );
      return task;
    };
    const endings = new Map<string, { notify: sfn.INextable & sfn.IChainable; fail: sfn.Fail }>();
    // The execution's evidence is the polling watch's plus the fast path's record.
    const takeFastPathEvidence = new sfn.Pass(this, 'TakeFastPathEvidence', {
      stateName: 'TakeFastPathEvidence',
      parameters: { 'value.$': '$.restore.value.fastPath.watch' },
      resultPath: '$.watch',
    });

    const restore = restoreStep('Restore', 'ABORT', 'ABORTED', 'NotifyAborted', 'Aborted', 'aborted');
    const rollBack = restoreStep(
      'RollBack',
      'ROLLBACK',
      'ROLLED_BACK',
      'NotifyRolledBack',
      'RolledBack',
      'rolled-back',
    );
    const cancelDeletion = restoreStep(
      'CancelDeletion',
      'CANCEL_DELETION',
      'DELETION_CANCELLED',
      'NotifyDeletionCancelled',
      'DeletionCancelled',
      'deletion-cancelled',
    );
    const restoreAfterRejection = restoreStep(
      'RestoreAfterRejection',
      'ABORT',
      'REJECTED',
      'NotifyDeletionRejected',
      'DeletionRejected',
      'rejected',
    );
    const restoreAfterExpiry = restoreStep(
      'RestoreAfterExpiry',
      'ABORT',
      'APPROVAL_EXPIRED',
      'NotifyDeletionApprovalExpired',
      'DeletionApprovalExpired',
      'approval-expired',
    );
    const toRestore = { errors: ['States.ALL'], resultPath: '$.error' };

    // After the fast path: end ROLLED_BACK or DELETION_CANCELLED, e-mailing only if it could not.
    const ending = (outcome: string) => {
      const found = endings.get(outcome);
      if (!found) {
        throw new Error(`No ending for ${outcome}`);
      }
      return found;
    };
    const fastPathNotified = sfn.Condition.booleanEquals('$.restore.value.fastPath.notified', true);
    const fastPathRolledBack = sfn.Condition.stringEquals('$.restore.value.fastPath.outcome', 'ROLLED_BACK');
    takeFastPathEvidence.next(
      new sfn.Choice(this, 'FastPathOutcome', { stateName: 'FastPathOutcome' })
        .when(sfn.Condition.and(fastPathRolledBack, fastPathNotified), ending('ROLLED_BACK').fail)
        .when(fastPathRolledBack, ending('ROLLED_BACK').notify)
        .when(fastPathNotified, ending('DELETION_CANCELLED').fail)
        .otherwise(ending('DELETION_CANCELLED').notify),
    );

    // --- 1-3: assess --------------------------------------------------------------------------
    // A CustomState because CDK drops null values from a Pass state's Parameters, and the restore
    // steps read $.watch.value and $.error, which must exist (as null) before the first check or catch.
    const start = new sfn.CustomState(this, 'Start', {
      stateJson: { Type: 'Pass', Parameters: { 'input.$': '$', watch: { value: null }, error: null } },
    });
    const assess = invoke(
      'AssessKey',
      functions.assess,
      {
        input: sfn.JsonPath.objectAt('$.input'),
        config: {
          cloudTrailLogGroupName: props.logGroupName,
          observationDays: config.observationDays,
          checkIntervalHours: config.checkIntervalHours,
          ingestionLagMinutes: config.ingestionLagMinutes,
          minIdleDays: config.minIdleDays,
          approvalTimeoutDays: config.approvalTimeoutDays,
          pendingWindowInDays: config.pendingWindowInDays,
          watchPendingWindow: config.watchPendingWindow,
          ...(config.keyTagCondition ? { keyTagCondition: config.keyTagCondition } : {}),
          // The roles whose CloudTrail records are the workflow's own (its canaries): never evidence.
          workflowPrincipalArns: workflowPrincipalArns(functions),
        },
      },
      '$.assessment',
    );
    assess.addCatch(abortedUnchanged, { errors: ['States.ALL'], resultPath: '$.error' });

    const refused = notify(
      'NotifyRefused',
      'refused',
      '$.assessment.value.subject',
      '$.assessment.value.summaryText',
    ).next(
      new sfn.Fail(this, 'Refused', {
        stateName: 'Refused',
        error: 'REFUSED',
        causePath: sfn.JsonPath.stringAt('$.assessment.value.causeText'),
      }),
    );

    // --- 4-5: first approval, disable ----------------------------------------------------------
    const disableApproval = approval(
      'RequestDisableApproval',
      'disable',
      '$.assessment.value.subject',
      '$.assessment.value.summaryText',
    );
    disableApproval.addCatch(
      new sfn.Fail(this, 'DisableRejected', {
        stateName: 'DisableRejected',
        error: 'REJECTED',
        cause: 'REJECTED: the disable request was rejected; the key was not changed.',
      }),
      { errors: [APPROVAL_REJECTED], resultPath: '$.error' },
    );
    disableApproval.addCatch(
      new sfn.Fail(this, 'DisableApprovalExpired', {
        stateName: 'DisableApprovalExpired',
        error: 'APPROVAL_EXPIRED',
        cause: `APPROVAL_EXPIRED: nobody answered the disable request within ${config.approvalTimeoutDays} days; the key was not changed.`,
      }),
      { errors: ['States.Timeout'], resultPath: '$.error' },
    );
    disableApproval.addCatch(abortedUnchanged, { errors: ['States.ALL'], resultPath: '$.error' });

    const disable = invoke(
      'DisableKey',
      functions.disable,
      {
        assessment: sfn.JsonPath.objectAt('$.assessment.value'),
        approval: sfn.JsonPath.objectAt('$.disableApproval'),
      },
      '$.disable',
    );
    disable.addCatch(restore, toRestore);

    // --- 6-7: observe, final check -------------------------------------------------------------
    const startWatch = new sfn.Pass(this, 'StartWatch', {
      stateName: 'StartWatch',
      parameters: { 'value.$': '$.disable.value.watch' },
      resultPath: '$.watch',
    });
    const checkPayload = (phase: string): Record<string, unknown> => ({
      phase,
      assessment: sfn.JsonPath.objectAt('$.assessment.value'),
      disable: sfn.JsonPath.objectAt('$.disable.value'),
      watch: sfn.JsonPath.objectAt('$.watch.value'),
    });
    // A watch is one task-token state: the checks run as a chain of one-time schedules that invoke the
    // check function (lambdas/check), so the waiting costs no state transitions. The chain answers the
    // token when the key broke or the watch is done, fails it with the check's error, and keeps it alive
    // with a heartbeat at every check: a chain that stops for any reason times the task out, and the
    // Catch restores the key.
    const checkIntervalSeconds = config.checkIntervalHours * 3600;
    const lagSeconds = config.ingestionLagMinutes * 60;
    const watchTask = (
      name: string,
      phase: 'OBSERVE' | 'PENDING',
      timeout: sfn.Timeout,
      extra: Record<string, unknown> = {},
    ): tasks.LambdaInvoke => {
      const task = new tasks.LambdaInvoke(this, name, {
        stateName: name,
        lambdaFunction: functions.check,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: sfn.TaskInput.fromObject({
          executionArn: execution,
          trigger: 'start',
          taskToken: sfn.JsonPath.taskToken,
          ...checkPayload(phase),
          ...extra,
        }),
        resultSelector: { 'value.$': '$' },
        resultPath: '$.watch',
        retryOnServiceExceptions: false,
        // A missed check plus the lag and an hour for Scheduler and Lambda retries.
        heartbeatTimeout: sfn.Timeout.duration(
          Duration.seconds(2 * checkIntervalSeconds + lagSeconds + 3600),
        ),
        taskTimeout: timeout,
      });
      // Only the start (one schedule) runs inside the task's Lambda call, and only Lambda's service errors
      // are retried: a retry starts a new chain from the first check, so the chain's own failures
      // (SendTaskFailure, after its own retries) must go to the Catch.
      task.addRetry({
        errors: [...LAMBDA_SERVICE_ERRORS],
        interval: Duration.seconds(5),
        maxAttempts: 6,
        backoffRate: 2,
        maxDelay: Duration.minutes(5),
        jitterStrategy: sfn.JitterType.FULL,
      });
      task.addCatch(restore, toRestore);
      return task;
    };
    // The observation has no deadline of its own: a stalled chain misses its heartbeat, and the key is
    // restored whenever that happens.
    const watchForBreakage = watchTask(
      'WatchForBreakage',
      'OBSERVE',
      sfn.Timeout.duration(
        Duration.seconds(config.observationDays * 86_400 + 2 * checkIntervalSeconds + lagSeconds + 86_400),
      ),
    );
    // An answer that is neither breakage nor done breaks the chain's contract: restore, never go on.
    const watchIncomplete = (name: string) =>
      new sfn.Pass(this, name, {
        stateName: name,
        parameters: {
          Error: 'WatchIncomplete',
          Cause: 'The watch ended without saying whether the key broke or the watch was done.',
        },
        resultPath: '$.error',
      }).next(restore);

    const waitForFinalCheck = new sfn.Wait(this, 'WaitForFinalCheck', {
      stateName: 'WaitForFinalCheck',
      time: sfn.WaitTime.timestampPath('$.watch.value.nextCheckAt'),
    });
    const finalCheck = invoke('FinalCheck', functions.check, checkPayload('FINAL'), '$.watch');
    finalCheck.addCatch(restore, toRestore);

    // --- 8-11: second approval, schedule, pending watch ----------------------------------------
    const deletionApproval = approval(
      'RequestDeletionApproval',
      'deletion',
      '$.watch.value.subject',
      '$.watch.value.reportText',
    );
    deletionApproval.addCatch(restoreAfterRejection, { errors: [APPROVAL_REJECTED], resultPath: '$.error' });
    deletionApproval.addCatch(restoreAfterExpiry, { errors: ['States.Timeout'], resultPath: '$.error' });
    deletionApproval.addCatch(restore, toRestore);

    const scheduleDeletion = invoke(
      'ScheduleDeletion',
      functions.scheduleDeletion,
      {
        assessment: sfn.JsonPath.objectAt('$.assessment.value'),
        disable: sfn.JsonPath.objectAt('$.disable.value'),
        watch: sfn.JsonPath.objectAt('$.watch.value'),
        approval: sfn.JsonPath.objectAt('$.deletionApproval'),
      },
      '$.deletion',
    );
    scheduleDeletion.addCatch(restore, toRestore);

    const deletionScheduled = new sfn.Pass(this, 'DeletionScheduled', {
      stateName: 'DeletionScheduled',
      parameters: {
        outcome: 'DELETION_SCHEDULED',
        keyArn: sfn.JsonPath.stringAt('$.assessment.value.key.keyArn'),
        deletionDate: sfn.JsonPath.stringAt('$.deletion.value.deletionDate'),
        scheduledAt: sfn.JsonPath.stringAt('$.deletion.value.scheduledAt'),
      },
    }).next(new sfn.Succeed(this, 'Done', { stateName: 'Done' }));

    const startPendingWatch = new sfn.Pass(this, 'StartPendingWatch', {
      stateName: 'StartPendingWatch',
      parameters: { 'value.$': '$.deletion.value.watch' },
      resultPath: '$.watch',
    });
    // The pending watch has a deadline: KMS deletes the key at the end of the window, so a chain that
    // stalls near the end must time out while a restore can still cancel the deletion (ScheduleDeletion
    // computes the seconds to half a safety margin before the deletion).
    const watchPendingUse = watchTask(
      'WatchPendingUse',
      'PENDING',
      sfn.Timeout.at('$.deletion.value.watchTimeoutSeconds'),
      { deletion: sfn.JsonPath.objectAt('$.deletion.value') },
    );

    // --- Wiring --------------------------------------------------------------------------------
    const observationVerdict = new sfn.Choice(this, 'ObservationVerdict', { stateName: 'ObservationVerdict' })
      .when(sfn.Condition.booleanEquals('$.watch.value.broke', true), rollBack)
      .when(sfn.Condition.booleanEquals('$.watch.value.done', true), waitForFinalCheck)
      .otherwise(watchIncomplete('ObservationIncomplete'));
    const finalVerdict = new sfn.Choice(this, 'FinalVerdict', { stateName: 'FinalVerdict' })
      .when(sfn.Condition.booleanEquals('$.watch.value.broke', true), rollBack)
      .otherwise(deletionApproval);
    const pendingVerdict = new sfn.Choice(this, 'PendingVerdict', { stateName: 'PendingVerdict' })
      .when(sfn.Condition.booleanEquals('$.watch.value.broke', true), cancelDeletion)
      .when(sfn.Condition.booleanEquals('$.watch.value.done', true), deletionScheduled)
      .otherwise(watchIncomplete('PendingWatchIncomplete'));
    const watchPending = new sfn.Choice(this, 'WatchPendingWindow', { stateName: 'WatchPendingWindow' })
      .when(
        sfn.Condition.booleanEquals('$.assessment.value.plan.watchPendingWindow', true),
        startPendingWatch,
      )
      .otherwise(deletionScheduled);

    watchForBreakage.next(observationVerdict);
    waitForFinalCheck.next(finalCheck);
    finalCheck.next(finalVerdict);
    deletionApproval.next(scheduleDeletion);
    scheduleDeletion.next(watchPending);
    startPendingWatch.next(watchPendingUse);
    watchPendingUse.next(pendingVerdict);

    const definition = start
      .next(assess)
      .next(
        new sfn.Choice(this, 'IsRefused', { stateName: 'IsRefused' })
          .when(sfn.Condition.stringEquals('$.assessment.value.verdict', 'REFUSED'), refused)
          .otherwise(disableApproval),
      );
    disableApproval.next(disable).next(startWatch).next(watchForBreakage);

    const logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment:
        'kms-deletion-guard: disable, watch CloudTrail for DisabledException, then delete with approval',
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // The role may only invoke the workflow's Lambdas and publish to its topic (plus logging and
    // X-Ray, which CDK adds for the options above).
    this.stateMachine.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }),
    );
  }
}
