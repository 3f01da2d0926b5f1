import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Outcome } from '../../../lambdas/contracts/outcomes.js';
import { backoff, EXECUTION_ARN, failState, lambdaStep, notifyStep, RESULTS } from './steps.js';

/** What the restore function does: re-enable the key, cancel its deletion, or whichever undoes this run's hold. */
export type RestoreMode = 'ROLLBACK' | 'CANCEL_DELETION' | 'ABORT';

export interface RestoreEndingProps {
  /** The restore step's name. */
  readonly stateName: string;
  readonly mode: RestoreMode;
  /** The execution's outcome: the Fail state's error, and in lower case the e-mail's `kind` (`rolled-back`). */
  readonly outcome: Outcome;
  /** The Fail state's name; the e-mail before it is `Notify<failName>`. */
  readonly failName: string;
  readonly restoreFunction: lambda.IFunction;
  readonly topic: sns.ITopic;
  /** Where a restore that keeps failing goes. */
  readonly onRestoreFailed: sfn.IChainable;
  /** Where the run goes when the fast path gave the key back before or while this step ran. */
  readonly onFastPath: sfn.IChainable;
}

/**
 * One way the run ends after the key was changed: the restore function gives the key back (only
 * what this execution did: it re-enables a key it disabled and cancels a deletion it scheduled),
 * e-mails what happened and ends with `outcome`. The restore step retries every error, since a key
 * left disabled is worse than a late answer.
 */
export class RestoreEnding extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  /** The run ends here: nothing is chained after a restore. */
  public readonly endStates: sfn.INextable[] = [];
  /** The e-mail, then the Fail state. */
  public readonly notify: sfn.TaskStateBase;
  /** The Fail state alone, for when the fast path has already e-mailed the evidence. */
  public readonly fail: sfn.Fail;

  constructor(scope: Construct, id: string, props: RestoreEndingProps) {
    super(scope, id);
    const task = lambdaStep(
      this,
      props.stateName,
      props.restoreFunction,
      {
        mode: props.mode,
        outcome: props.outcome,
        assessment: RESULTS.assessment,
        watch: RESULTS.watch,
        error: sfn.JsonPath.objectAt('$.error'),
      },
      '$.restore',
    );
    task.addRetry(backoff(['States.ALL'], Duration.seconds(30), 5));
    task.addCatch(props.onRestoreFailed, { errors: ['States.ALL'], resultPath: '$.restoreError' });

    this.fail = failState(this, props.failName, props.outcome, { causePath: '$.restore.value.causeText' });
    this.notify = notifyStep(this, `Notify${props.failName}`, {
      topic: props.topic,
      kind: props.outcome.toLowerCase().replaceAll('_', '-'),
      subjectPath: '$.restore.value.subject',
      messagePath: '$.restore.value.messageText',
    });
    this.notify.next(this.fail);
    // The fast path may have undone the hold before this step ran (the check then found the key
    // changed) or while it ran: the step reports it, and the run ends with the fast path's outcome.
    task.next(
      new sfn.Choice(this, `${props.stateName}Verdict`, { stateName: `${props.stateName}Verdict` })
        .when(sfn.Condition.isPresent('$.restore.value.fastPath.outcome'), props.onFastPath)
        .otherwise(this.notify),
    );
    this.startState = task;
  }
}

export interface RestoreEndingsProps {
  readonly restoreFunction: lambda.IFunction;
  readonly topic: sns.ITopic;
}

/**
 * Every ending after the key was changed, and what they share: the manual-action notice when a
 * restore cannot finish, and the fast path's outcome when the fast path gave the key back first.
 */
export class RestoreEndings extends Construct {
  /** Any error after the disable that retries cannot fix (ABORTED, key restored). */
  public readonly restore: RestoreEnding;
  /** Failed calls were found while the key was disabled (ROLLED_BACK, key enabled). */
  public readonly rollBack: RestoreEnding;
  /** Failed calls were found in the pending window (DELETION_CANCELLED, key left Disabled). */
  public readonly cancelDeletion: RestoreEnding;
  /** The deletion request was rejected (REJECTED, key restored). */
  public readonly afterRejection: RestoreEnding;
  /** Nobody answered the deletion request in time (APPROVAL_EXPIRED, key restored). */
  public readonly afterExpiry: RestoreEnding;
  /**
   * The inventory right before ScheduleKeyDeletion refused the key (REFUSED, key restored). The caught
   * error at `$.error` names the refusal's cause and carries its message.
   */
  public readonly afterInventory: RestoreEnding;

  constructor(scope: Construct, id: string, props: RestoreEndingsProps) {
    super(scope, id);
    const onRestoreFailed = this.restoreFailed(props.topic);
    // The execution's evidence is the polling watch's plus the fast path's record.
    const onFastPath = new sfn.Pass(this, 'TakeFastPathEvidence', {
      stateName: 'TakeFastPathEvidence',
      parameters: { 'value.$': '$.restore.value.fastPath.watch' },
      resultPath: '$.watch',
    });
    const ending = (stateName: string, mode: RestoreMode, outcome: Outcome, failName: string) =>
      new RestoreEnding(this, stateName, {
        stateName,
        mode,
        outcome,
        failName,
        onRestoreFailed,
        onFastPath,
        ...props,
      });
    this.restore = ending('Restore', 'ABORT', 'ABORTED', 'Aborted');
    this.rollBack = ending('RollBack', 'ROLLBACK', 'ROLLED_BACK', 'RolledBack');
    this.cancelDeletion = ending(
      'CancelDeletion',
      'CANCEL_DELETION',
      'DELETION_CANCELLED',
      'DeletionCancelled',
    );
    this.afterRejection = ending('RestoreAfterRejection', 'ABORT', 'REJECTED', 'DeletionRejected');
    this.afterExpiry = ending('RestoreAfterExpiry', 'ABORT', 'APPROVAL_EXPIRED', 'DeletionApprovalExpired');
    this.afterInventory = ending('RestoreAfterInventory', 'ABORT', 'REFUSED', 'InventoryRefused');

    // After the fast path: end ROLLED_BACK or DELETION_CANCELLED, e-mailing only if it could not.
    const notified = sfn.Condition.booleanEquals('$.restore.value.fastPath.notified', true);
    const rolledBack = sfn.Condition.stringEquals('$.restore.value.fastPath.outcome', 'ROLLED_BACK');
    onFastPath.next(
      new sfn.Choice(this, 'FastPathOutcome', { stateName: 'FastPathOutcome' })
        .when(sfn.Condition.and(rolledBack, notified), this.rollBack.fail)
        .when(rolledBack, this.rollBack.notify)
        .when(notified, this.cancelDeletion.fail)
        .otherwise(this.cancelDeletion.notify),
    );
  }

  /**
   * A restore that cannot finish still ends away from deletion, and says what to do by hand. The e-mail
   * goes out whatever the caught error holds: Step Functions always names the error, but gives a cause
   * only for some (a task's `States.Timeout` comes with none), and a path that points nowhere would fail
   * the Pass state, and the run with it, before the e-mail. The notice is first written with the whole
   * error as JSON, which any error can be; when the cause is text, it is written again as
   * `<error>: <cause>`, easier to read.
   */
  private restoreFailed(topic: sns.ITopic): sfn.IChainable {
    const notify = notifyStep(this, 'NotifyRestoreFailed', {
      topic,
      kind: 'restore-failed',
      subjectPath: '$.failureNotice.subject',
      messagePath: '$.failureNotice.message',
    });
    const notice = (errorFormat: string, ...errorArgs: string[]) => ({
      subject: 'ACTION NEEDED: kms-deletion-guard could not restore a KMS key',
      message: sfn.JsonPath.format(
        `The execution {} could not restore the KMS key {} after an error (${errorFormat}). The key may still be disabled or pending deletion. Check the key now: enable it (aws kms enable-key) or cancel its deletion (aws kms cancel-key-deletion) if it is still needed.`,
        EXECUTION_ARN,
        sfn.JsonPath.stringAt('$.assessment.value.key.keyArn'),
        ...errorArgs,
      ),
    });
    const withCause = new sfn.Pass(this, 'PrepareRestoreFailedNoticeWithCause', {
      stateName: 'PrepareRestoreFailedNoticeWithCause',
      parameters: notice(
        '{}: {}',
        sfn.JsonPath.stringAt('$.restoreError.Error'),
        sfn.JsonPath.stringAt('$.restoreError.Cause'),
      ),
      resultPath: '$.failureNotice',
    });
    // Testing the type of a field that is absent fails the run too, so presence is tested first.
    const cause = '$.restoreError.Cause';
    const hasCause = sfn.Condition.and(sfn.Condition.isPresent(cause), sfn.Condition.isString(cause));
    return new sfn.Pass(this, 'PrepareRestoreFailedNotice', {
      stateName: 'PrepareRestoreFailedNotice',
      parameters: notice('{}', sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.restoreError'))),
      resultPath: '$.failureNotice',
    })
      .next(
        new sfn.Choice(this, 'RestoreErrorHasCause', { stateName: 'RestoreErrorHasCause' })
          .when(hasCause, withCause)
          .afterwards({ includeOtherwise: true }),
      )
      .next(notify)
      .next(
        failState(this, 'RestoreFailed', 'ABORTED', {
          cause:
            'RESTORE_FAILED: the workflow could not restore the key; check its kms-deletion-guard:* tags and enable it or cancel its deletion by hand.',
        }),
      );
  }
}
