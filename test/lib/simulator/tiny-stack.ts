import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { CfnTemplate } from '../../../lib/simulator/definition.js';

/**
 * A small CDK workflow with every construct the simulator must handle: a LambdaInvoke with Retry
 * and Catch, Waits by SecondsPath and TimestampPath, a waitForTaskToken SNS approval, a plain SNS
 * publish, and Fail states with Error and CausePath. It stands in for the product's stack so the
 * engine glue is tested on a real synthesized template.
 */
export function synthTinyTemplate(): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Tiny');
  const fn = new lambda.Function(stack, 'Echo', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    environment: { KDG_HANDLER: 'echo' },
  });
  const topic = new sns.Topic(stack, 'Approvals');

  const assess = new tasks.LambdaInvoke(stack, 'AssessKey', {
    stateName: 'AssessKey',
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({
      input: sfn.JsonPath.objectAt('$'),
      executionArn: sfn.JsonPath.executionId,
    }),
    resultSelector: { 'value.$': '$.Payload' },
    resultPath: '$.assessment',
    retryOnServiceExceptions: false,
  });
  assess.addRetry({
    errors: ['ThrottlingException'],
    interval: Duration.seconds(10),
    maxAttempts: 2,
    backoffRate: 3,
  });
  assess.addCatch(
    new sfn.Fail(stack, 'Aborted', {
      stateName: 'Aborted',
      error: 'ABORTED',
      cause: 'WORKFLOW_ERROR: assess failed',
    }),
    { errors: ['States.ALL'], resultPath: '$.error' },
  );

  const waitSeconds = new sfn.Wait(stack, 'WaitSeconds', {
    stateName: 'WaitSeconds',
    time: sfn.WaitTime.secondsPath('$.waitSeconds'),
  });
  const waitUntil = new sfn.Wait(stack, 'WaitUntil', {
    stateName: 'WaitUntil',
    time: sfn.WaitTime.timestampPath('$.assessment.value.nextCheckAt'),
  });
  const approval = new tasks.SnsPublish(stack, 'RequestDisableApproval', {
    stateName: 'RequestDisableApproval',
    topic,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    subject: 'Approve disabling the key?',
    message: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
    messageAttributes: { step: { value: 'disable' }, kind: { value: 'approval-request' } },
    // Longer than Node's 24.8-day timer limit on purpose: virtual time must enforce it.
    taskTimeout: sfn.Timeout.duration(Duration.days(30)),
    resultPath: '$.disableApproval',
  });
  approval.addCatch(
    new sfn.Fail(stack, 'Rejected', {
      stateName: 'Rejected',
      error: 'REJECTED',
      cause: 'REJECTED: rejected',
    }),
    { errors: ['ApprovalRejected'] },
  );
  approval.addCatch(
    new sfn.Fail(stack, 'Expired', {
      stateName: 'Expired',
      error: 'APPROVAL_EXPIRED',
      cause: 'APPROVAL_EXPIRED: nobody answered',
    }),
    { errors: ['States.Timeout'] },
  );
  const notify = new tasks.SnsPublish(stack, 'NotifyDone', {
    stateName: 'NotifyDone',
    topic,
    subject: 'Done',
    message: sfn.TaskInput.fromText('all done'),
    messageAttributes: { kind: { value: 'done' } },
    resultPath: sfn.JsonPath.DISCARD,
  });
  const done = new sfn.Pass(stack, 'DeletionScheduled', {
    stateName: 'DeletionScheduled',
    parameters: { outcome: 'DELETION_SCHEDULED', 'approvedAt.$': '$.disableApproval.at' },
  }).next(new sfn.Succeed(stack, 'Done', { stateName: 'Done' }));

  new sfn.StateMachine(stack, 'Workflow', {
    definitionBody: sfn.DefinitionBody.fromChainable(
      assess.next(waitSeconds).next(waitUntil).next(approval).next(notify).next(done),
    ),
  });
  return app.synth().getStackByName('Tiny').template as CfnTemplate;
}
