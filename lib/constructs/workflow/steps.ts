/*
 * The kinds of state the workflow is made of, each with its retries: a Lambda call, an e-mail, an
 * ending. Every state is named explicitly (`stateName`), so the definition's state names do not
 * depend on which construct a state belongs to.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { TRANSIENT_ERRORS } from '../../../lambdas/contracts/workflow-errors.js';

/** Lambda's own service errors, retried on every call of a workflow Lambda. */
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

/** Every handler gets the execution's ARN, and every e-mail names it. */
export const EXECUTION_ARN = sfn.JsonPath.stringAt('$$.Execution.Id');

/** What the earlier steps left in the state, as the payload fields the handlers read. */
export const RESULTS = {
  assessment: sfn.JsonPath.objectAt('$.assessment.value'),
  disable: sfn.JsonPath.objectAt('$.disable.value'),
  watch: sfn.JsonPath.objectAt('$.watch.value'),
} as const;

/** A catch that sends the error, as `$.error`, to a state that restores the key or ends the run. */
export const CATCH_ALL: sfn.CatchProps = { errors: ['States.ALL'], resultPath: '$.error' };

/** Exponential backoff with full jitter, so that many executions retrying at once spread out. */
export function backoff(
  errors: readonly string[],
  interval: Duration,
  maxAttempts: number,
  maxDelay?: Duration,
): sfn.RetryProps {
  return {
    errors: [...errors],
    interval,
    maxAttempts,
    backoffRate: 2,
    ...(maxDelay ? { maxDelay } : {}),
    jitterStrategy: sfn.JitterType.FULL,
  };
}

/** A retry of Lambda's own service errors. */
export function lambdaServiceRetry(interval: Duration, maxDelay?: Duration): sfn.RetryProps {
  return backoff(LAMBDA_SERVICE_ERRORS, interval, 6, maxDelay);
}

/** SNS errors that a later publish can fix. */
export const SNS_RETRY = backoff(SNS_TRANSIENT_ERRORS, Duration.seconds(2), 5);

/**
 * Calls a workflow Lambda with the execution's ARN and `payload`, keeps its answer at
 * `<resultPath>.value`, and retries what a later attempt can fix (never the handler's own verdicts).
 */
export function lambdaStep(
  scope: Construct,
  name: string,
  fn: lambda.IFunction,
  payload: Record<string, unknown>,
  resultPath: string,
  /** At least the function's own timeout. */
  taskTimeout: Duration = Duration.minutes(5),
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, name, {
    stateName: name,
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({ executionArn: EXECUTION_ARN, ...payload }),
    payloadResponseOnly: false,
    resultSelector: { 'value.$': '$.Payload' },
    resultPath,
    retryOnServiceExceptions: false,
    taskTimeout: sfn.Timeout.duration(taskTimeout),
  });
  task.addRetry(lambdaServiceRetry(Duration.seconds(2)));
  // Errors a later attempt can fix (KMS, CloudWatch Logs and Lambda itself).
  task.addRetry(backoff(TRANSIENT_ERRORS, Duration.seconds(5), 6, Duration.minutes(5)));
  return task;
}

export interface NotifyStepProps {
  readonly topic: sns.ITopic;
  /** The `kind` message attribute, by which the simulator and subscribers tell e-mails apart. */
  readonly kind: string;
  readonly subjectPath: string;
  readonly messagePath: string;
}

/** Publishes an e-mail whose subject and text a handler has written into the state. */
export function notifyStep(scope: Construct, name: string, props: NotifyStepProps): tasks.SnsPublish {
  const task = new tasks.SnsPublish(scope, name, {
    stateName: name,
    topic: props.topic,
    subject: sfn.JsonPath.stringAt(props.subjectPath),
    message: sfn.TaskInput.fromJsonPathAt(props.messagePath),
    messageAttributes: {
      kind: { value: props.kind },
      execution: { value: EXECUTION_ARN },
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  task.addRetry(SNS_RETRY);
  return task;
}

/** Where the Fail state's cause comes from: fixed text, or a path to text a step wrote. */
export type FailCause = { readonly cause: string } | { readonly causePath: string };

/** Ends the execution with `error` as its outcome. */
export function failState(scope: Construct, name: string, error: string, cause: FailCause): sfn.Fail {
  return new sfn.Fail(scope, name, {
    stateName: name,
    error,
    ...('cause' in cause ? { cause: cause.cause } : { causePath: sfn.JsonPath.stringAt(cause.causePath) }),
  });
}
