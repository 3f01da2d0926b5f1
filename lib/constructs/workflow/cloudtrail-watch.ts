import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { CATCH_ALL, EXECUTION_ARN, lambdaServiceRetry, RESULTS } from './steps.js';

/** What the check function reads at every check: the key's assessment, the hold and the watch so far. */
export function checkPayload(phase: 'OBSERVE' | 'PENDING' | 'FINAL'): Record<string, unknown> {
  return { phase, ...RESULTS };
}

/** The check's answer (at `$.watch.value`, for a watch and the final check alike) found failed calls on the key. */
export const BROKE = sfn.Condition.booleanEquals('$.watch.value.broke', true);

/**
 * The check found the key changed by someone else (after searching its evidence): the answer carries
 * the error the run ends with. Tested after BROKE, so evidence decides first.
 */
export const KEY_CHANGED = sfn.Condition.isPresent('$.watch.value.keyChange');

/**
 * The check's search did not fit its invocation: the answer is the watch unchanged with where the
 * search stopped, and the same step runs again with it. Tested first: nothing is decided yet.
 */
export const SEARCHING = sfn.Condition.isPresent('$.watch.value.resume');

/** The two watches: the observation after the disable, and the pending window after the deletion is scheduled. */
const PHASES = {
  OBSERVE: {
    names: {
      start: 'StartWatch',
      watch: 'WatchForBreakage',
      verdict: 'ObservationVerdict',
      incomplete: 'ObservationIncomplete',
    },
    startFrom: '$.disable.value.watch',
    payload: {},
  },
  PENDING: {
    names: {
      start: 'StartPendingWatch',
      watch: 'WatchPendingUse',
      verdict: 'PendingVerdict',
      incomplete: 'PendingWatchIncomplete',
    },
    startFrom: '$.deletion.value.watch',
    payload: { deletion: sfn.JsonPath.objectAt('$.deletion.value') },
  },
} as const;

export interface CloudTrailWatchProps {
  readonly phase: keyof typeof PHASES;
  /** The check function: it starts the chain of checks and answers the token. */
  readonly check: lambda.IFunction;
  readonly checkIntervalHours: number;
  readonly ingestionLagMinutes: number;
  /** How long the whole watch may take. */
  readonly timeout: sfn.Timeout;
  /** Where the run goes when a failed call on the key was found. */
  readonly onBreakage: sfn.IChainable;
  /** Where the run goes when a check found the key changed by someone else (and no breakage). */
  readonly onKeyChanged: sfn.IChainable;
  /** Where the run goes on any failure of the watch, and on an answer that says neither broke nor done. */
  readonly onFailure: sfn.IChainable;
}

/**
 * A watch of CloudTrail for failed calls on the held key, as one task-token state. The checks run
 * as a chain of one-time schedules that invoke the check function (lambdas/check), so the waiting
 * costs no state transitions. The chain answers the token when the key broke, the key was changed by
 * someone else, or the watch is done,
 * fails it with the check's error, and keeps it alive with a heartbeat at every check: a chain that
 * stops for any reason times the task out, and the catch restores the key. A watch that is done
 * continues with the state chained after this fragment.
 */
export class CloudTrailWatch extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  /** The verdict's "done" branch, as CDK's `Choice.afterwards({ includeOtherwise: true })` offers the default. */
  public readonly endStates: sfn.INextable[];

  constructor(scope: Construct, id: string, props: CloudTrailWatchProps) {
    super(scope, id);
    const phase = PHASES[props.phase];
    const checkIntervalSeconds = props.checkIntervalHours * 3600;
    const lagSeconds = props.ingestionLagMinutes * 60;

    const start = new sfn.Pass(this, phase.names.start, {
      stateName: phase.names.start,
      parameters: { 'value.$': phase.startFrom },
      resultPath: '$.watch',
    });
    const watch = new tasks.LambdaInvoke(this, phase.names.watch, {
      stateName: phase.names.watch,
      lambdaFunction: props.check,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        executionArn: EXECUTION_ARN,
        trigger: 'start',
        taskToken: sfn.JsonPath.taskToken,
        ...checkPayload(props.phase),
        ...phase.payload,
      }),
      resultSelector: { 'value.$': '$' },
      resultPath: '$.watch',
      retryOnServiceExceptions: false,
      // A missed check plus the lag and an hour for Scheduler and Lambda retries.
      heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(2 * checkIntervalSeconds + lagSeconds + 3600)),
      taskTimeout: props.timeout,
    });
    // Only the start (one schedule) runs inside the task's Lambda call, and only Lambda's service errors
    // are retried: a retry starts a new chain from the first check, so the chain's own failures
    // (SendTaskFailure, after its own retries) must go to the catch.
    watch.addRetry(lambdaServiceRetry(Duration.seconds(5), Duration.minutes(5)));
    watch.addCatch(props.onFailure, CATCH_ALL);

    // An answer that is neither breakage nor done breaks the chain's contract: restore, never go on.
    const incomplete = new sfn.Pass(this, phase.names.incomplete, {
      stateName: phase.names.incomplete,
      parameters: {
        Error: 'WatchIncomplete',
        Cause: 'The watch ended without saying whether the key broke or the watch was done.',
      },
      resultPath: '$.error',
    }).next(props.onFailure);
    const verdict = new sfn.Choice(this, phase.names.verdict, { stateName: phase.names.verdict })
      .when(BROKE, props.onBreakage)
      .when(KEY_CHANGED, props.onKeyChanged)
      .otherwise(incomplete);
    start.next(watch).next(verdict);

    this.startState = start;
    this.endStates = [new VerdictBranch(verdict, sfn.Condition.booleanEquals('$.watch.value.done', true))];
  }
}

/** One branch of a Choice as a chain's end, so that `fragment.next(state)` adds the branch to `state`. */
class VerdictBranch implements sfn.INextable {
  constructor(
    private readonly choice: sfn.Choice,
    private readonly condition: sfn.Condition,
  ) {}

  public next(state: sfn.IChainable): sfn.Chain {
    this.choice.when(this.condition, state);
    return sfn.Chain.start(state);
  }
}
