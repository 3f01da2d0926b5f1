/*
 * The per-key workflow. One Standard execution per key; JSONPath throughout.
 *
 *  1. Start                    wraps the raw input as $.input, so even non-object input is answered.
 *  2. AssessKey                validates input, reads the key, classifies usage, applies the refusal rules.
 *                              Error after retries -> AbortedUnchanged (ABORTED, nothing changed).
 *  3. IsRefused                REFUSED -> NotifyRefused -> Refused (REFUSED, nothing changed).
 *     TakeInventory            what the key protects (data at rest, grants, key policy): it answers the
 *                              assessment again, with the inventory in the approval e-mail.
 *                              InventoryVerdict: REFUSED (PROTECTS_DATA, INVENTORY_INCOMPLETE,
 *                              ENCRYPTS_WATCH_SOURCE) -> NotifyRefused -> Refused. Error -> AbortedUnchanged.
 *  4. RequestDisableApproval   the request function e-mails the assessment with a one-time link, waits for a task token.
 *                              Rejected -> DisableRejected (REJECTED); timeout -> DisableApprovalExpired
 *                              (APPROVAL_EXPIRED); other error -> AbortedUnchanged. Nothing changed on any.
 *  5. DisableKey               re-reads the key and its usage, tags it as held, then disables it.
 *                              Used since the assessment -> NotifyUsedSinceAssessment -> UsedSinceAssessment
 *                              (REFUSED, nothing changed). Other error -> Restore.
 *  6. WatchForBreakage         one task-token state for the whole observation. The check function runs
 *                              every checkInterval as a chain of one-time EventBridge Scheduler schedules
 *                              (CheckForBreakage), heartbeats the token and answers it -> ObservationVerdict.
 *                              Breakage -> RollBack -> NotifyRolledBack -> RolledBack (ROLLED_BACK).
 *                              Key changed by someone else, log group missing, blind source, any error
 *                              (SendTaskFailure), a missed heartbeat or the timeout -> Restore.
 *  7. WaitForFinalCheck -> FinalCheck (after observationDays + ingestionLag)
 *                              Breakage or use after disable -> RollBack; error -> Restore. A search too
 *                              long for one invocation answers with where it stopped (`resume`), and
 *                              FinalVerdict calls FinalCheck again until it is done (CheckAtDeletionDate too).
 *  8. RequestDeletionApproval  e-mail with the observation report and who approved the disable, waits for a task token.
 *                              Rejected -> RestoreAfterRejection (REJECTED, key restored);
 *                              timeout -> RestoreAfterExpiry (APPROVAL_EXPIRED, key restored); error -> Restore.
 *     TakeInventoryBeforeDeletion  the inventory again. FinalInventoryVerdict: REFUSED -> PrepareInventoryRefusal
 *                              -> RestoreAfterInventory (REFUSED with the inventory's cause, key restored).
 *                              Error -> Restore.
 *  9. ScheduleDeletion         ScheduleKeyDeletion with the pending window.   Error -> Restore. While its
 *                              canary proof's search is split, it changes nothing and answers `resume`:
 *                              ContinueScheduleDeletion hands it back to the step until the proof is done.
 * 10. Pending watch (if watchPendingWindow) WatchPendingUse, the same chain (CheckPendingUse) -> PendingVerdict.
 *                              Every pending check searches the whole hold (a record delivered late is found);
 *                              the last one runs minutes before the deletion date, as late as a cancel can land.
 *                              Use -> CancelDeletion -> NotifyDeletionCancelled -> DeletionCancelled
 *                              (DELETION_CANCELLED, key left Disabled); error, heartbeat, timeout -> Restore.
 *                              A watch answer that is neither breakage nor done -> Restore (WatchIncomplete).
 *     WaitForDeletionDate      the execution stays running until the deletion date, so the fast path (which
 *                              acts only for a running execution) guards the key until KMS deletes it.
 *     CheckAtDeletionDate      one more search and a look at the key -> DeletionDateVerdict: use on a key that
 *                              still exists -> CancelDeletion; the fast path cancelled it -> Restore, which
 *                              ends DELETION_CANCELLED with the fast path's evidence.
 * 11. DeletionScheduled        the window ended with no use: KMS deletes the key (DELETION_SCHEDULED).
 * A check that finds the key changed by someone else (re-enabled, tags removed, deletion scheduled or
 * cancelled, deleted) searches its evidence first and answers with it -> KeyChangedExternally -> Restore.
 * Restore (ABORT) re-enables the key only if this execution disabled it (the key's tags say so) and
 * cancels a deletion only if this execution scheduled it -> NotifyAborted -> Aborted (ABORTED).
 * If Restore itself keeps failing -> PrepareRestoreFailedNotice (the e-mail goes out whether or not the
 * caught error has a cause) -> NotifyRestoreFailed -> RestoreFailed (ABORTED, manual action named).
 * Fast path (lib/constructs/fast-path.ts): an EventBridge-invoked Lambda may give the key back between
 * two checks. The next check then finds the key changed and fails the watch, which goes to Restore;
 * every restore step reads the key's tags, and when the fast path ended the hold (<Step>Verdict) the
 * run takes the fast path's record as evidence (TakeFastPathEvidence) and ends ROLLED_BACK or
 * DELETION_CANCELLED (FastPathOutcome), e-mailing only if the fast path could not. The execution is
 * not woken early: see lambdas/fast-path.
 *
 * The parts live in lib/constructs/workflow/: ApprovalGate (4, 8), CloudTrailWatch (6, 10), RestoreEndings
 * (every ending after the key was changed) and the kinds of step they are made of (steps.ts).
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { guardConfigPayload, WHOLE_NUMBER_SETTINGS } from '../../lambdas/contracts/config.js';
import { WORKFLOW_ERRORS } from '../../lambdas/contracts/workflow-errors.js';
import type { ResolvedGuardConfig } from './config.js';
import { acknowledgeWildcards } from './nag-acknowledgements.js';
import { retainedLogGroup } from './retained-log-group.js';
import { ApprovalGate } from './workflow/approval-gate.js';
import { BROKE, CloudTrailWatch, checkPayload, KEY_CHANGED, SEARCHING } from './workflow/cloudtrail-watch.js';
import { RestoreEndings } from './workflow/restore-endings.js';
import { CATCH_ALL, failState, lambdaStep, notifyStep, RESULTS } from './workflow/steps.js';

/** The Lambdas the workflow calls, by role. */
export interface WorkflowFunctions {
  readonly assess: lambda.IFunction;
  /** Reads what the key protects; it pages many services, so its step waits as long as the function may run. */
  readonly inventory: lambda.IFunction;
  readonly disable: lambda.IFunction;
  readonly check: lambda.IFunction;
  readonly scheduleDeletion: lambda.IFunction;
  readonly restore: lambda.IFunction;
  /** Makes each approval link's secret and sends the approval e-mail. */
  readonly requestApproval: lambda.IFunction;
}

export interface WorkflowProps {
  /** The validated stack configuration; it is embedded in the definition, not in Lambda environments. */
  readonly config: ResolvedGuardConfig;
  /**
   * How long the inventory step waits for its function: at least the function's timeout.
   * @default 15 minutes, Lambda's longest
   */
  readonly inventoryTimeout?: Duration;
  /** The CloudTrail log group the checks read. */
  readonly logGroupName: string;
  readonly functions: WorkflowFunctions;
  /** Evidence e-mails go here (the request function sends the approval e-mails). */
  readonly topic: sns.ITopic;
}

/**
 * The execution roles of the Lambdas that call KMS on the key (the canary makers among them): the
 * CloudTrail records of their calls are the workflow's own, never evidence.
 */
function workflowPrincipalArns(functions: WorkflowFunctions): string[] {
  return [functions.disable, functions.check, functions.scheduleDeletion, functions.restore].flatMap((fn) =>
    fn.role ? [fn.role.roleArn] : [],
  );
}

/** The per-key state machine (the flow above), its execution log group and its role's acknowledgements. */
export class Workflow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /**
   * Where the state machine logs every event of its executions (level ALL), without their data: the
   * states' inputs and outputs (the approval tasks' tokens among them) stay in the execution history.
   */
  public readonly executionLogGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const { config, functions, topic } = props;
    const endings = new RestoreEndings(this, 'Endings', { restoreFunction: functions.restore, topic });
    const gate = {
      requestFunction: functions.requestApproval,
      timeoutDays: config.approvalTimeoutDays,
      approvers: config.approvers,
    };
    // A check that found the key changed by someone else answered with its evidence and the error the
    // run ends with; the restore reads both.
    const keyChanged = new sfn.Pass(this, 'KeyChangedExternally', {
      stateName: 'KeyChangedExternally',
      parameters: {
        'Error.$': '$.watch.value.keyChange.error',
        'Cause.$': '$.watch.value.keyChange.cause',
      },
      resultPath: '$.error',
    }).next(endings.restore);
    const watch = {
      check: functions.check,
      checkIntervalHours: config.checkIntervalHours,
      ingestionLagMinutes: config.ingestionLagMinutes,
      onFailure: endings.restore,
      onKeyChanged: keyChanged,
    };

    // --- 1-3: assess --------------------------------------------------------------------------
    // A CustomState because CDK drops null values from a Pass state's Parameters, and the restore
    // steps read $.watch.value and $.error, which must exist (as null) before the first check or catch.
    const start = new sfn.CustomState(this, 'Start', {
      stateJson: { Type: 'Pass', Parameters: { 'input.$': '$', watch: { value: null }, error: null } },
    });
    const abortedUnchanged = this.abortedUnchanged();
    const input = sfn.JsonPath.objectAt('$.input');
    const assess = lambdaStep(
      this,
      'AssessKey',
      functions.assess,
      { input, config: guardConfigPayload(config, props.logGroupName, workflowPrincipalArns(functions)) },
      '$.assessment',
    );
    assess.addCatch(abortedUnchanged, CATCH_ALL);
    const refused = notifyStep(this, 'NotifyRefused', {
      topic,
      kind: 'refused',
      subjectPath: '$.assessment.value.subject',
      messagePath: '$.assessment.value.summaryText',
    }).next(failState(this, 'Refused', 'REFUSED', { causePath: '$.assessment.value.causeText' }));

    // The inventory answers the assessment again (at $.assessment), so the approval e-mail, the approval
    // page and the refusal read it where they read the assessment.
    const inventoryTimeout = props.inventoryTimeout ?? Duration.minutes(15);
    const inventory = lambdaStep(
      this,
      'TakeInventory',
      functions.inventory,
      { phase: 'BEFORE_DISABLE', assessment: RESULTS.assessment },
      '$.assessment',
      inventoryTimeout,
    );
    inventory.addCatch(abortedUnchanged, CATCH_ALL);

    // --- 4-5: first approval, disable ----------------------------------------------------------
    const disableApproval = new ApprovalGate(this, 'DisableApproval', {
      ...gate,
      stateName: 'RequestDisableApproval',
      step: 'disable',
      subjectPath: '$.assessment.value.subject',
      textPath: '$.assessment.value.summaryText',
      onRejected: failState(this, 'DisableRejected', 'REJECTED', {
        cause: 'REJECTED: the disable request was rejected; the key was not changed.',
      }),
      onExpired: failState(this, 'DisableApprovalExpired', 'APPROVAL_EXPIRED', {
        cause: `APPROVAL_EXPIRED: nobody answered the disable request within ${config.approvalTimeoutDays} days; the key was not changed.`,
      }),
      onError: abortedUnchanged,
    });
    const disable = lambdaStep(
      this,
      'DisableKey',
      functions.disable,
      { assessment: RESULTS.assessment, approval: sfn.JsonPath.objectAt('$.disableApproval') },
      '$.disable',
    );
    // First: a catcher matches in order, and this refusal must not fall to CATCH_ALL's Restore.
    disable.addCatch(this.usedSinceAssessment(topic), {
      errors: [WORKFLOW_ERRORS.usedSinceAssessment],
      resultPath: '$.error',
    });
    disable.addCatch(endings.restore, CATCH_ALL);

    // --- 6-7: observe, final check -------------------------------------------------------------
    // The observation has no deadline of its own: a stalled chain misses its heartbeat, and the key is
    // restored whenever that happens. The backstop allows the longest observation an input may ask
    // for, not the stack default: an execution asked to watch longer must not be cut short.
    const slackSeconds = 2 * config.checkIntervalHours * 3600 + config.ingestionLagMinutes * 60 + 86_400;
    const longestObservationDays = Math.max(
      config.observationDays,
      WHOLE_NUMBER_SETTINGS.observationDays.max,
    );
    const observation = new CloudTrailWatch(this, 'Observation', {
      ...watch,
      phase: 'OBSERVE',
      timeout: sfn.Timeout.duration(Duration.seconds(longestObservationDays * 86_400 + slackSeconds)),
      onBreakage: endings.rollBack,
    });
    const waitForFinalCheck = new sfn.Wait(this, 'WaitForFinalCheck', {
      stateName: 'WaitForFinalCheck',
      time: sfn.WaitTime.timestampPath('$.watch.value.nextCheckAt'),
    });
    const finalCheck = lambdaStep(this, 'FinalCheck', functions.check, checkPayload('FINAL'), '$.watch');
    finalCheck.addCatch(endings.restore, CATCH_ALL);

    // --- 8-11: second approval, schedule, pending watch ----------------------------------------
    const deletionApproval = new ApprovalGate(this, 'DeletionApproval', {
      ...gate,
      stateName: 'RequestDeletionApproval',
      step: 'deletion',
      subjectPath: '$.watch.value.subject',
      textPath: '$.watch.value.reportText',
      previousDecisionPath: '$.disableApproval',
      onRejected: endings.afterRejection,
      onExpired: endings.afterExpiry,
      onError: endings.restore,
    });
    // The inventory again, right before the one step that cannot be taken back by itself: a refusal
    // here is a stop after the disable, so the key is given back.
    const finalInventory = lambdaStep(
      this,
      'TakeInventoryBeforeDeletion',
      functions.inventory,
      { phase: 'BEFORE_DELETION', assessment: RESULTS.assessment },
      '$.finalInventory',
      inventoryTimeout,
    );
    finalInventory.addCatch(endings.restore, CATCH_ALL);
    const inventoryRefusal = new sfn.Pass(this, 'PrepareInventoryRefusal', {
      stateName: 'PrepareInventoryRefusal',
      parameters: {
        Error: sfn.JsonPath.stringAt('$.finalInventory.value.refusal.cause'),
        Cause: sfn.JsonPath.stringAt('$.finalInventory.value.refusal.message'),
      },
      resultPath: '$.error',
    }).next(endings.afterInventory);
    const scheduleDeletion = lambdaStep(
      this,
      'ScheduleDeletion',
      functions.scheduleDeletion,
      { ...RESULTS, approval: sfn.JsonPath.objectAt('$.deletionApproval') },
      '$.deletion',
    );
    scheduleDeletion.addCatch(endings.restore, CATCH_ALL);
    // Its canary proof's search did not fit one invocation (nothing was claimed or scheduled): the same
    // step again, with where the search stopped in the watch it reads.
    const continueScheduleDeletion = new sfn.Pass(this, 'ContinueScheduleDeletion', {
      stateName: 'ContinueScheduleDeletion',
      parameters: { 'value.$': 'States.JsonMerge($.watch.value, $.deletion.value, false)' },
      resultPath: '$.watch',
    }).next(scheduleDeletion);
    const deletionScheduled = this.deletionScheduled();
    // The pending watch has a deadline: KMS deletes the key at the end of the window, so a chain that
    // stalls near the end must time out while a restore can still cancel the deletion (ScheduleDeletion
    // computes the seconds to the deadline, just after the last check and before the deletion).
    const pendingWatch = new CloudTrailWatch(this, 'PendingWatch', {
      ...watch,
      phase: 'PENDING',
      timeout: sfn.Timeout.at('$.deletion.value.watchTimeoutSeconds'),
      onBreakage: endings.cancelDeletion,
    });
    // The last pending check answered minutes before the deletion date; the execution stays running
    // until then, so the fast path still cancels the deletion for a failure in those minutes.
    const waitForDeletionDate = new sfn.Wait(this, 'WaitForDeletionDate', {
      stateName: 'WaitForDeletionDate',
      time: sfn.WaitTime.timestampPath('$.watch.value.nextCheckAt'),
    });
    const checkAtDeletionDate = lambdaStep(
      this,
      'CheckAtDeletionDate',
      functions.check,
      { ...checkPayload('PENDING'), deletion: sfn.JsonPath.objectAt('$.deletion.value'), atDeletion: true },
      '$.watch',
    );
    checkAtDeletionDate.addCatch(endings.restore, CATCH_ALL);
    // Failed calls whose records arrived after the last check, on a key KMS has now deleted: nothing
    // can be undone, but the callers that now fail for good are e-mailed.
    const notifyTooLate = notifyStep(this, 'NotifyEvidenceTooLate', {
      topic,
      kind: 'evidence-too-late',
      subjectPath: '$.watch.value.subject',
      messagePath: '$.watch.value.reportText',
    }).next(deletionScheduled);
    pendingWatch
      .next(waitForDeletionDate)
      .next(checkAtDeletionDate)
      .next(
        choice(this, 'DeletionDateVerdict')
          .when(SEARCHING, checkAtDeletionDate)
          .when(BROKE, endings.cancelDeletion)
          .when(KEY_CHANGED, keyChanged)
          .when(sfn.Condition.numberGreaterThan('$.watch.value.evidenceCount', 0), notifyTooLate)
          .otherwise(deletionScheduled),
      );

    // --- Wiring --------------------------------------------------------------------------------
    const definition = start
      .next(assess)
      .next(
        choice(this, 'IsRefused')
          .when(sfn.Condition.stringEquals('$.assessment.value.verdict', 'REFUSED'), refused)
          .afterwards({ includeOtherwise: true }),
      )
      .next(inventory)
      .next(
        choice(this, 'InventoryVerdict')
          .when(sfn.Condition.stringEquals('$.assessment.value.verdict', 'REFUSED'), refused)
          .afterwards({ includeOtherwise: true }),
      )
      .next(disableApproval)
      .next(disable)
      .next(observation)
      .next(waitForFinalCheck)
      .next(finalCheck)
      .next(
        // A Choice that loops back to FinalCheck cannot end a chain (its branch would get a second
        // next), so the run goes on from the deletion approval as a chain of its own.
        choice(this, 'FinalVerdict')
          .when(SEARCHING, finalCheck)
          .when(BROKE, endings.rollBack)
          .when(KEY_CHANGED, keyChanged)
          .otherwise(deletionApproval),
      );
    deletionApproval
      .next(finalInventory)
      .next(
        choice(this, 'FinalInventoryVerdict')
          .when(sfn.Condition.stringEquals('$.finalInventory.value.verdict', 'REFUSED'), inventoryRefusal)
          .afterwards({ includeOtherwise: true }),
      )
      .next(scheduleDeletion)
      .next(
        choice(this, 'WatchPendingWindow')
          .when(sfn.Condition.isPresent('$.deletion.value.resume'), continueScheduleDeletion)
          .when(sfn.Condition.booleanEquals('$.assessment.value.plan.watchPendingWindow', true), pendingWatch)
          .otherwise(deletionScheduled),
      );

    this.executionLogGroup = retainedLogGroup(this, 'ExecutionLogs');
    this.stateMachine = this.createStateMachine(definition, this.executionLogGroup, props);
  }

  /** An error before the key was changed ends the run with nothing changed. */
  private abortedUnchanged(): sfn.IChainable {
    // CausePath takes a path only in the local engine, so the cause text is built by a Pass first.
    return new sfn.Pass(this, 'PrepareAbortedUnchanged', {
      stateName: 'PrepareAbortedUnchanged',
      parameters: {
        causeText: sfn.JsonPath.format(
          'WORKFLOW_ERROR: {} before the key was changed; nothing was changed.',
          sfn.JsonPath.stringAt('$.error.Error'),
        ),
      },
      resultPath: '$.abort',
    }).next(failState(this, 'AbortedUnchanged', 'ABORTED', { causePath: '$.abort.causeText' }));
  }

  /**
   * DisableKey found the key used after the assessment and changed nothing: the run ends REFUSED, its
   * refusal e-mailed like AssessKey's, with the handler's sentence (which names the use) as the cause.
   */
  private usedSinceAssessment(topic: sns.ITopic): sfn.IChainable {
    const prepare = new sfn.Pass(this, 'PrepareUsedSinceAssessment', {
      stateName: 'PrepareUsedSinceAssessment',
      parameters: { 'detail.$': 'States.StringToJson($.error.Cause)' },
      resultPath: '$.refusal',
    });
    const texts = new sfn.Pass(this, 'DescribeUsedSinceAssessment', {
      stateName: 'DescribeUsedSinceAssessment',
      parameters: {
        causeText: sfn.JsonPath.stringAt('$.refusal.detail.errorMessage'),
        subject: sfn.JsonPath.format(
          'Refused: key {} was used since the assessment',
          sfn.JsonPath.stringAt('$.assessment.value.key.keyId'),
        ),
        summaryText: sfn.JsonPath.format(
          'REFUSED: the disable request for {} was approved, but the key was used after the assessment, so it was not disabled. {} The key and its tags were not changed. Run the workflow again if the key should still be deleted: a new assessment sees this use.',
          sfn.JsonPath.stringAt('$.assessment.value.key.keyArn'),
          sfn.JsonPath.stringAt('$.refusal.detail.errorMessage'),
        ),
      },
      resultPath: '$.refusal',
    });
    return prepare
      .next(texts)
      .next(
        notifyStep(this, 'NotifyUsedSinceAssessment', {
          topic,
          kind: 'refused',
          subjectPath: '$.refusal.subject',
          messagePath: '$.refusal.summaryText',
        }),
      )
      .next(failState(this, 'UsedSinceAssessment', 'REFUSED', { causePath: '$.refusal.causeText' }));
  }

  /** The pending window ended with no use (or was not watched): KMS deletes the key. */
  private deletionScheduled(): sfn.IChainable {
    return new sfn.Pass(this, 'DeletionScheduled', {
      stateName: 'DeletionScheduled',
      parameters: {
        outcome: 'DELETION_SCHEDULED',
        keyArn: sfn.JsonPath.stringAt('$.assessment.value.key.keyArn'),
        deletionDate: sfn.JsonPath.stringAt('$.deletion.value.deletionDate'),
        scheduledAt: sfn.JsonPath.stringAt('$.deletion.value.scheduledAt'),
        // Failed calls seen only once nothing could be undone stay in the execution's output.
        watch: {
          evidence: sfn.JsonPath.listAt('$.watch.value.evidence'),
          evidenceCount: sfn.JsonPath.numberAt('$.watch.value.evidenceCount'),
        },
      },
    }).next(new sfn.Succeed(this, 'Done', { stateName: 'Done' }));
  }

  private createStateMachine(
    definition: sfn.IChainable,
    logGroup: logs.ILogGroup,
    props: WorkflowProps,
  ): sfn.StateMachine {
    const stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment:
        'kms-deletion-guard: disable, watch CloudTrail for DisabledException, then delete with approval',
      tracingEnabled: true,
      // Without execution data: inputs, outputs and task parameters stay in the execution history, which
      // keeps the audit; the log keeps each event's type, state name, error and cause.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // The role may only invoke the workflow's Lambdas and publish to its topic (plus logging and
    // X-Ray, which CDK adds for the options above).
    stateMachine.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }),
    );
    acknowledgeWildcards(stateMachine, [
      ...Object.values(props.functions).map((fn: lambda.IFunction) => ({
        resource: `${fn.functionArn}:*`,
        reason:
          "The state machine may invoke versions and aliases of its own Lambdas (added by CDK's LambdaInvoke).",
      })),
      {
        resource: '*',
        reason:
          'X-Ray tracing and CloudWatch Logs delivery for Step Functions support no resource-level permissions.',
      },
    ]);
    return stateMachine;
  }
}

function choice(scope: Construct, name: string): sfn.Choice {
  return new sfn.Choice(scope, name, { stateName: name });
}
