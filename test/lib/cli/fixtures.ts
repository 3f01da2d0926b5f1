import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * Execution histories shaped like those Step Functions records for this workflow (state names of
 * lib/constructs/workflow.ts, SNS `publish.waitForTaskToken` approvals with the token in the
 * `taskToken` message attribute, Lambda tasks whose output lands under `value`).
 */

export const REGION = 'eu-west-1';
export const ACCOUNT = '111122223333';
export const STATE_MACHINE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:KeyDeletionGuardWorkflow`;
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
export const OTHER_KEY_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:KmsDeletionGuard-Approvals`;
export const REQUEST_FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:KmsDeletionGuard-RequestApproval`;

export function executionArn(name: string): string {
  return `arn:aws:states:${REGION}:${ACCOUNT}:execution:KeyDeletionGuardWorkflow:${name}`;
}

export const ENV = { AWS_REGION: REGION, KDG_STATE_MACHINE_ARN: STATE_MACHINE_ARN, USER: 'alice' };

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private time: number;
  private state: Record<string, unknown>;

  constructor(
    private readonly executionArn: string,
    input: Record<string, unknown> = { keyId: KEY_ARN },
    start = Date.parse('2026-03-01T09:00:00Z'),
  ) {
    this.time = start;
    this.state = { input, watch: { value: null }, error: null };
    this.push({
      type: 'ExecutionStarted',
      executionStartedEventDetails: {
        input: JSON.stringify(input),
        roleArn: `arn:aws:iam::${ACCOUNT}:role/WorkflowRole`,
      },
    });
  }

  private push(event: Omit<HistoryEvent, 'id' | 'timestamp'>, advanceMs = 1000): this {
    this.time += advanceMs;
    const id = this.events.length + 1;
    this.events.push({
      ...event,
      id,
      previousEventId: id - 1,
      timestamp: new Date(this.time),
    } as HistoryEvent);
    return this;
  }

  at(iso: string): this {
    this.time = Date.parse(iso);
    return this;
  }

  enter(type: string, name: string): this {
    return this.push({
      type: `${type}StateEntered` as HistoryEvent['type'],
      stateEnteredEventDetails: { name, input: JSON.stringify(this.state) },
    });
  }

  exit(type: string, name: string, changes: Record<string, unknown> = {}): this {
    this.state = { ...this.state, ...changes };
    return this.push({
      type: `${type}StateExited` as HistoryEvent['type'],
      stateExitedEventDetails: { name, output: JSON.stringify(this.state) },
    });
  }

  pass(name: string, changes: Record<string, unknown> = {}): this {
    return this.enter('Pass', name).exit('Pass', name, changes);
  }

  choice(name: string): this {
    return this.enter('Choice', name).exit('Choice', name);
  }

  lambda(name: string, resultPath: string, value: unknown): this {
    this.enter('Task', name);
    const lambda = { resourceType: 'lambda', resource: 'invoke' };
    this.push({
      type: 'TaskScheduled',
      taskScheduledEventDetails: {
        ...lambda,
        region: REGION,
        parameters: JSON.stringify({
          FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
          Payload: {},
        }),
        timeoutInSeconds: 300,
      },
    });
    this.push({ type: 'TaskStarted', taskStartedEventDetails: lambda });
    this.push({
      type: 'TaskSucceeded',
      taskSucceededEventDetails: { ...lambda, output: JSON.stringify({ Payload: value }) },
    });
    return this.exit('Task', name, { [resultPath]: { value } });
  }

  wait(name: string, waitUntil: string): this {
    this.enter('Wait', name);
    return this.at(waitUntil).exit('Wait', name);
  }

  /**
   * A watch task (WatchForBreakage, WatchPendingUse) as the history shows it while the checks run:
   * the check function was invoked once to start the schedule chain and the token stays open.
   */
  startWatch(name: 'WatchForBreakage' | 'WatchPendingUse'): this {
    this.enter('Task', name);
    const watchTask = { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
    this.push({
      type: 'TaskScheduled',
      taskScheduledEventDetails: {
        ...watchTask,
        region: REGION,
        parameters: JSON.stringify({
          FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:GuardCheckFunction`,
          Payload: {
            executionArn: this.executionArn,
            trigger: 'start',
            taskToken: `TOKEN-${name}`,
            phase: name === 'WatchForBreakage' ? 'OBSERVE' : 'PENDING',
          },
        }),
        timeoutInSeconds: 2_723_400,
        heartbeatInSeconds: 48_600,
      },
    });
    this.push({ type: 'TaskStarted', taskStartedEventDetails: watchTask });
    return this.push({
      type: 'TaskSubmitted',
      taskSubmittedEventDetails: {
        ...watchTask,
        output: JSON.stringify({ StatusCode: 200, Payload: { scheduled: 'kdg-0-o0-0' } }),
      },
    });
  }

  /** The schedule chain answered the watch's token with SendTaskSuccess(watchState) at `at`. */
  endWatch(name: 'WatchForBreakage' | 'WatchPendingUse', at: string, value: unknown): this {
    this.at(at).push({
      type: 'TaskSucceeded',
      taskSucceededEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        output: JSON.stringify(value),
      },
    });
    return this.exit('Task', name, { watch: { value } });
  }

  /** The chain failed the token (SendTaskFailure) at `at`; the Catch puts the error at `$.error`. */
  failWatch(at: string, error: string, cause: string): this {
    this.at(at).push({
      type: 'TaskFailed',
      taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error, cause },
    });
    this.state = { ...this.state, error: { Error: error, Cause: cause } };
    return this;
  }

  /** The SNS publish that asks for approval; `failPublish` adds a throttled first attempt that the Retry repeats. */
  /**
   * An approval request: the request-approval Lambda invoked with the token (`form: 'sns'`: the SNS
   * publish of executions started before links had secrets). `failPublish` is the token of a first
   * attempt that failed and was retried with a new token.
   */
  requestApproval(
    name: string,
    step: 'disable' | 'deletion',
    token: string,
    failPublish?: string,
    options: { readonly approvers?: readonly string[]; readonly form?: 'lambda' | 'sns' } = {},
  ): this {
    this.enter('Task', name);
    const legacy = options.form === 'sns';
    const resource = legacy
      ? { resourceType: 'sns', resource: 'publish.waitForTaskToken' }
      : { resourceType: 'lambda', resource: 'invoke.waitForTaskToken' };
    const subject = `kms-deletion-guard: approve ${step === 'disable' ? 'disabling' : 'deleting'} KMS key ${KEY_ID}`;
    const parameters = (taskToken: string) =>
      legacy
        ? {
            TopicArn: TOPIC_ARN,
            Subject: subject,
            Message: `Summary...\n\nApproval token: ${taskToken}`,
            MessageAttributes: {
              kind: { DataType: 'String', StringValue: 'approval-request' },
              step: { DataType: 'String', StringValue: step },
              execution: { DataType: 'String', StringValue: this.executionArn },
              taskToken: { DataType: 'String', StringValue: taskToken },
            },
          }
        : {
            FunctionName: REQUEST_FUNCTION_ARN,
            Payload: {
              executionArn: this.executionArn,
              taskToken,
              step,
              subject,
              text: 'Summary...',
              keyArn: KEY_ARN,
              timeoutSeconds: 604800,
              approvers: [...(options.approvers ?? [])],
            },
          };
    const schedule = (taskToken: string) =>
      this.push({
        type: 'TaskScheduled',
        taskScheduledEventDetails: {
          ...resource,
          region: REGION,
          timeoutInSeconds: 604800,
          parameters: JSON.stringify(parameters(taskToken)),
        },
      });
    if (failPublish) {
      schedule(failPublish);
      this.push({ type: 'TaskStarted', taskStartedEventDetails: resource });
      this.push({
        type: 'TaskFailed',
        taskFailedEventDetails: {
          ...resource,
          error: legacy ? 'SNS.ThrottledException' : 'ThrottledException',
          cause: 'Rate exceeded',
        },
      });
    }
    schedule(token);
    this.push({ type: 'TaskStarted', taskStartedEventDetails: resource });
    return this.push({
      type: 'TaskSubmitted',
      taskSubmittedEventDetails: {
        ...resource,
        output: JSON.stringify(
          legacy
            ? { MessageId: 'f00d' }
            : { Payload: { link: '0123456789ab', step, expiresAt: '2026-03-08T09:00:00.000Z' } },
        ),
      },
    });
  }

  approve(name: string, step: 'disable' | 'deletion'): this {
    const output = { decision: 'approve', by: 'bob', at: new Date(this.time).toISOString() };
    this.push(
      {
        type: 'TaskSucceeded',
        taskSucceededEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          output: JSON.stringify(output),
        },
      },
      3_600_000,
    );
    return this.exit('Task', name, { [`${step}Approval`]: output });
  }
}

export const ASSESSMENT = {
  verdict: 'ACCEPTED',
  key: { keyId: KEY_ID, keyArn: KEY_ARN, aliases: ['alias/app-old'], keyState: 'Enabled', tags: {} },
  plan: {
    logGroupName: 'aws-cloudtrail-logs-111122223333',
    observationDays: 30,
    pendingWindowInDays: 30,
    checkIntervalSeconds: 21_600,
    ingestionLagSeconds: 1800,
    watchPendingWindow: true,
  },
};

export function watch(
  checks: number,
  nextCheckAt: string,
  evidence: unknown[] = [],
): Record<string, unknown> {
  return {
    phase: 'OBSERVE',
    cursor: '2026-03-02T10:00:00.000Z',
    seenEventIds: [],
    checks,
    nextCheckAt,
    done: false,
    broke: evidence.length > 0,
    evidence,
    evidenceCount: evidence.length,
    scanned: checks * 40,
    reportText: '',
    subject: '',
  };
}

/**
 * Assessed, disable approved, disabled at 10:00, and inside the WatchForBreakage task since
 * 10:00:03: the checks run outside Step Functions, so the history ends with the task's start.
 */
export function observingHistory(arn: string): HistoryBuilder {
  return new HistoryBuilder(arn)
    .pass('Start')
    .lambda('AssessKey', 'assessment', ASSESSMENT)
    .choice('IsRefused')
    .requestApproval('RequestDisableApproval', 'disable', 'TOKEN-DISABLE-1', 'TOKEN-DISABLE-0')
    .approve('RequestDisableApproval', 'disable')
    .lambda('DisableKey', 'disable', {
      disabledAt: '2026-03-01T10:00:00.000Z',
      wasEnabled: true,
      watch: watch(0, '2026-03-01T16:00:00.000Z'),
    })
    .at('2026-03-01T10:00:00.000Z')
    .pass('StartWatch', { watch: { value: watch(0, '2026-03-01T16:00:00.000Z') } })
    .startWatch('WatchForBreakage');
}
