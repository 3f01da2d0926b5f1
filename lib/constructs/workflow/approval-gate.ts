import { Duration } from 'aws-cdk-lib';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { WORKFLOW_ERRORS } from '../../../lambdas/contracts/workflow-errors.js';
import { CATCH_ALL, EXECUTION_ARN, SNS_RETRY } from './steps.js';

export interface ApprovalGateProps {
  /** The state's name in the definition. */
  readonly stateName: string;
  /** Which decision is asked for; the approval page and the CLI read it from the message attributes. */
  readonly step: 'disable' | 'deletion';
  readonly topic: sns.ITopic;
  /** The approval page (ApprovalEndpoint.url); the e-mail links to it with the execution and the token. */
  readonly approvalPageUrl: string;
  readonly timeoutDays: number;
  readonly subjectPath: string;
  /** The text above the link: the assessment, or the observation report. */
  readonly textPath: string;
  /** Where the run goes when an approver rejects. */
  readonly onRejected: sfn.IChainable;
  /** Where the run goes when nobody answers within `timeoutDays`. */
  readonly onExpired: sfn.IChainable;
  /** Where any other error goes. */
  readonly onError: sfn.IChainable;
}

/**
 * One human decision: an e-mail with approve and reject links, and a task token that waits for the
 * answer. An approval continues with the state chained after the gate; the answer is kept at
 * `$.<step>Approval`.
 */
export class ApprovalGate extends sfn.StateMachineFragment {
  /** The e-mail that waits for the answer. */
  public readonly startState: tasks.SnsPublish;

  /** The gate is one state: an approval continues after the e-mail. */
  public get endStates(): sfn.INextable[] {
    return [this.startState];
  }

  constructor(scope: Construct, id: string, props: ApprovalGateProps) {
    super(scope, id);
    const task = new tasks.SnsPublish(this, props.stateName, {
      stateName: props.stateName,
      topic: props.topic,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      subject: sfn.JsonPath.stringAt(props.subjectPath),
      // The link carries the execution and the token; opening it only shows the request, a POST from
      // the page decides. States.Format cannot URL-encode: the page accepts the raw ARN and restores
      // the token's '+' that query decoding turns into a space. The token also travels in an
      // attribute, where the page and the CLI find it in the execution history.
      message: sfn.TaskInput.fromText(
        sfn.JsonPath.format(
          '{}\n\nOpen this page to approve or reject (the link itself decides nothing): {}?execution={}&token={}',
          sfn.JsonPath.stringAt(props.textPath),
          props.approvalPageUrl,
          EXECUTION_ARN,
          sfn.JsonPath.taskToken,
        ),
      ),
      messageAttributes: {
        kind: { value: 'approval-request' },
        step: { value: props.step },
        execution: { value: EXECUTION_ARN },
        taskToken: { value: sfn.JsonPath.taskToken },
      },
      taskTimeout: sfn.Timeout.duration(Duration.days(props.timeoutDays)),
      resultPath: `$.${props.step}Approval`,
    });
    task.addRetry(SNS_RETRY);
    // States.ALL must come last: the first matching catch wins.
    task.addCatch(props.onRejected, { errors: [WORKFLOW_ERRORS.rejected], resultPath: '$.error' });
    task.addCatch(props.onExpired, { errors: ['States.Timeout'], resultPath: '$.error' });
    task.addCatch(props.onError, CATCH_ALL);
    this.startState = task;
  }
}
