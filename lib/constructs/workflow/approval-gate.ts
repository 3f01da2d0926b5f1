import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { RequestApprovalEvent } from '../../../lambdas/contracts/approval.js';
import { WORKFLOW_ERRORS } from '../../../lambdas/contracts/workflow-errors.js';
import { backoff, CATCH_ALL, EXECUTION_ARN, lambdaServiceRetry } from './steps.js';

/**
 * Errors of the request function's calls that a later attempt can fix (the SDK's error names, past
 * its own retries): SNS's publish, and DynamoDB's write of the link.
 */
const REQUEST_TRANSIENT_ERRORS = [
  'ThrottledException',
  'InternalErrorException',
  'KMSThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'InternalServerError',
];

export interface ApprovalGateProps {
  /** The state's name in the definition. */
  readonly stateName: string;
  /** Which decision is asked for; the approval page and the CLI read it from the task's payload. */
  readonly step: 'disable' | 'deletion';
  /** The request-approval function: it makes the link's secret and sends the e-mail. */
  readonly requestFunction: lambda.IFunction;
  readonly timeoutDays: number;
  /**
   * The stack's approvers, handed to every request so the page and the CLI read them from the
   * execution's own history.
   */
  readonly approvers: readonly string[];
  readonly subjectPath: string;
  /** The text above the link: the assessment, or the observation report. */
  readonly textPath: string;
  /** The earlier decision the e-mail names (the disable approval, in the deletion request). */
  readonly previousDecisionPath?: string;
  /** Where the run goes when an approver rejects. */
  readonly onRejected: sfn.IChainable;
  /** Where the run goes when nobody answers within `timeoutDays`. */
  readonly onExpired: sfn.IChainable;
  /** Where any other error goes. */
  readonly onError: sfn.IChainable;
}

/**
 * One human decision: the request function e-mails a link with a one-time secret (never the task
 * token, which the execution history shows to anyone who may read it), and the task waits for the
 * answer the approval page or the CLI sends. An approval continues with the state chained after the
 * gate; the answer is kept at `$.<step>Approval`.
 */
export class ApprovalGate extends sfn.StateMachineFragment {
  /** The request that waits for the answer. */
  public readonly startState: tasks.LambdaInvoke;

  /** The gate is one state: an approval continues after the request. */
  public get endStates(): sfn.INextable[] {
    return [this.startState];
  }

  constructor(scope: Construct, id: string, props: ApprovalGateProps) {
    super(scope, id);
    const timeoutSeconds = Duration.days(props.timeoutDays).toSeconds();
    const payload: Partial<Record<keyof RequestApprovalEvent, unknown>> = {
      executionArn: EXECUTION_ARN,
      taskToken: sfn.JsonPath.taskToken,
      step: props.step,
      subject: sfn.JsonPath.stringAt(props.subjectPath),
      text: sfn.JsonPath.stringAt(props.textPath),
      keyArn: sfn.JsonPath.stringAt('$.assessment.value.key.keyArn'),
      timeoutSeconds,
      approvers: [...props.approvers],
      ...(props.previousDecisionPath
        ? { previousDecision: sfn.JsonPath.objectAt(props.previousDecisionPath) }
        : {}),
    };
    const task = new tasks.LambdaInvoke(this, props.stateName, {
      stateName: props.stateName,
      lambdaFunction: props.requestFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject(payload),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(timeoutSeconds)),
      resultPath: `$.${props.step}Approval`,
      retryOnServiceExceptions: false,
    });
    task.addRetry(lambdaServiceRetry(Duration.seconds(2)));
    task.addRetry(backoff(REQUEST_TRANSIENT_ERRORS, Duration.seconds(2), 5));
    // States.ALL must come last: the first matching catch wins.
    task.addCatch(props.onRejected, { errors: [WORKFLOW_ERRORS.rejected], resultPath: '$.error' });
    task.addCatch(props.onExpired, { errors: ['States.Timeout'], resultPath: '$.error' });
    task.addCatch(props.onError, CATCH_ALL);
    this.startState = task;
  }
}
