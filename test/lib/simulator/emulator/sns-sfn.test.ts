import {
  GetExecutionHistoryCommand,
  InvalidOutput,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { AwsError } from '../../../../lib/simulator/emulator/errors.js';
import { SfnService, SnsService } from '../../../../lib/simulator/emulator/sns-sfn.js';
import { DAY, START, useEmulatorServer } from './fixtures.js';

const NOW = new Date('2026-01-05T02:02:00.000Z');
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:Guard:simulation';

describe('SnsService', () => {
  it('records a Query-protocol Publish with its attributes and answers with a MessageId', () => {
    // Prepare
    const sns = new SnsService('111122223333', () => NOW);
    const form = new URLSearchParams({
      Action: 'Publish',
      Version: '2010-03-31',
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:topic',
      Subject: 'key still in use',
      Message: 'evidence',
      'MessageAttributes.entry.1.Name': 'kind',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'rolled-back',
    });

    // Act
    const answer = sns.serve(form);

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.xml).toMatch(/<PublishResponse[^>]*><PublishResult><MessageId>[0-9a-f-]{36}<\/MessageId>/);
    expect(sns.published()).toEqual([
      {
        at: NOW.toISOString(),
        topicArn: 'arn:aws:sns:us-east-1:111122223333:topic',
        subject: 'key still in use',
        message: 'evidence',
        attributes: { kind: 'rolled-back' },
      },
    ]);
  });

  it('answers other actions and bad topics with a Query error, recording nothing', () => {
    // Prepare
    const sns = new SnsService('111122223333', () => NOW);

    // Act
    const other = sns.serve(new URLSearchParams({ Action: 'Subscribe' }));
    const bad = sns.serve(new URLSearchParams({ Action: 'Publish', TopicArn: 'nope', Message: 'm' }));

    // Assess
    expect(other).toMatchObject({ status: 400 });
    expect(other.xml).toContain('<Code>InvalidAction</Code>');
    expect(bad.xml).toContain('<Code>InvalidParameter</Code>');
    expect(sns.published()).toEqual([]);
  });

  it('answers a publish with the injected SNS error, recording nothing, while the fault lasts', () => {
    // Prepare
    const sns = new SnsService('111122223333', () => NOW);
    let remaining = 1;
    sns.useFaults((operation) => (operation === 'Publish' && remaining-- > 0 ? 'ThrottledException' : null));
    const form = new URLSearchParams({
      Action: 'Publish',
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:approvals',
      Message: 'approve?',
    });

    // Act
    const throttled = sns.serve(form);
    const sent = sns.serve(form);

    // Assess
    expect(throttled.status).toBe(400);
    expect(throttled.xml).toContain('<Code>ThrottledException</Code>');
    expect(sent.status).toBe(200);
    expect(sns.published()).toHaveLength(1);
  });
});

describe('SfnService', () => {
  it('answers DescribeExecution with the status the simulation set', () => {
    // Prepare
    const sfn = new SfnService(() => NOW);
    sfn.setStatus(EXECUTION, 'RUNNING');

    // Act
    const running = sfn.handle('DescribeExecution', { executionArn: EXECUTION });
    sfn.setStatus(EXECUTION, 'FAILED');
    const failed = sfn.handle('DescribeExecution', { executionArn: EXECUTION });

    // Assess
    expect(running).toMatchObject({
      status: 'RUNNING',
      name: 'simulation',
      stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:Guard',
    });
    expect(running.stopDate).toBeUndefined();
    expect(failed).toMatchObject({ status: 'FAILED', stopDate: NOW.getTime() / 1000 });
  });

  it('throws ExecutionDoesNotExist for an execution it never ran', () => {
    const sfn = new SfnService(() => NOW);
    expect(() => sfn.handle('DescribeExecution', { executionArn: EXECUTION })).toThrow(AwsError);
    try {
      sfn.handle('DescribeExecution', { executionArn: EXECUTION });
    } catch (error) {
      expect((error as AwsError).type).toBe('ExecutionDoesNotExist');
    }
  });
});

describe('SfnService task tokens through a real SFNClient', () => {
  const emulator = useEmulatorServer();
  let client: SFNClient;

  beforeAll(() => {
    client = emulator.client(SFNClient);
  });

  it('records a heartbeat at the virtual time and a success with its parsed output', async () => {
    // Prepare
    emulator.account.sfn.openTask('token-1');
    emulator.clock.advance(6 * 3_600_000);

    // Act
    await client.send(new SendTaskHeartbeatCommand({ taskToken: 'token-1' }));
    const beat = emulator.account.sfn.taskState('token-1');
    await client.send(
      new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{"broke":false,"done":true}' }),
    );

    // Assess
    expect(beat).toEqual({ answer: null, lastHeartbeatMs: START.getTime() + 6 * 3_600_000 });
    expect(emulator.account.sfn.taskState('token-1')?.answer).toEqual({
      kind: 'success',
      output: { broke: false, done: true },
    });
    expect(emulator.account.sfn.tokenCalls().map((c) => c.operation)).toEqual([
      'SendTaskHeartbeat',
      'SendTaskSuccess',
    ]);
  });

  it('records a failure with its error and cause', async () => {
    // Prepare
    emulator.account.sfn.openTask('token-2');

    // Act
    await client.send(
      new SendTaskFailureCommand({
        taskToken: 'token-2',
        error: 'KeyChangedExternallyError',
        cause: 'changed',
      }),
    );

    // Assess
    expect(emulator.account.sfn.taskState('token-2')?.answer).toEqual({
      kind: 'failure',
      error: 'KeyChangedExternallyError',
      cause: 'changed',
    });
  });

  it('answers TaskDoesNotExist for a token it never issued and TaskTimedOut once the task stopped waiting', async () => {
    // Prepare
    emulator.account.sfn.openTask('answered');
    emulator.account.sfn.openTask('closed');
    await client.send(new SendTaskSuccessCommand({ taskToken: 'answered', output: '{}' }));
    emulator.account.sfn.closeTask('closed');

    // Act
    const unknown = client.send(new SendTaskHeartbeatCommand({ taskToken: 'never' }));
    const twice = client.send(new SendTaskSuccessCommand({ taskToken: 'answered', output: '{}' }));
    const late = client.send(new SendTaskFailureCommand({ taskToken: 'closed', error: 'X' }));

    // Assess
    await expect(unknown).rejects.toBeInstanceOf(TaskDoesNotExist);
    await expect(twice).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(late).rejects.toBeInstanceOf(TaskTimedOut);
    expect(emulator.account.sfn.taskState('answered')?.answer).toEqual({ kind: 'success', output: {} });
    expect(emulator.account.sfn.taskState('closed')?.answer).toBeNull();
  });

  it('refuses output that is not JSON and leaves the token open', async () => {
    // Prepare
    emulator.account.sfn.openTask('token-3');

    // Act
    const sent = client.send(new SendTaskSuccessCommand({ taskToken: 'token-3', output: '{nope' }));

    // Assess
    await expect(sent).rejects.toBeInstanceOf(InvalidOutput);
    expect(emulator.account.sfn.taskState('token-3')?.answer).toBeNull();
  });

  it("applies an injected 'sfn' fault to the task-token calls", async () => {
    // Prepare
    emulator.account.sfn.openTask('token-4');
    emulator.account.addFault({
      service: 'sfn',
      operation: 'SendTaskSuccess',
      error: 'ServiceUnavailableException',
      from: START,
      until: new Date(START.getTime() + DAY),
      count: 1,
    });

    // Act
    const first = client.send(new SendTaskSuccessCommand({ taskToken: 'token-4', output: '{}' }));
    await expect(first).rejects.toMatchObject({ name: 'ServiceUnavailableException' });
    const second = await client.send(new SendTaskSuccessCommand({ taskToken: 'token-4', output: '{}' }));

    // Assess
    expect(second.$metadata.httpStatusCode).toBe(200);
    expect(emulator.account.sfn.taskState('token-4')?.answer).toEqual({ kind: 'success', output: {} });
  });
});

describe('SfnService execution history through a real SFNClient', () => {
  const emulator = useEmulatorServer();
  let client: SFNClient;
  const TASK = {
    executionArn: EXECUTION,
    state: 'RequestDisableApproval',
    input: { assessment: { value: { key: { keyId: 'k' } } } },
    parameters: {
      FunctionName: 'arn:aws:lambda:us-east-1:111122223333:function:Request',
      Payload: { step: 'disable', taskToken: 'token-h1' },
    },
    timeoutSeconds: 604_800,
  };

  beforeAll(() => {
    client = emulator.client(SFNClient);
  });

  it('shows a token task as Step Functions would: entered, scheduled with its parameters, answered', async () => {
    // Prepare
    emulator.account.sfn.setStatus(EXECUTION, 'RUNNING');
    emulator.account.sfn.openTask('token-h1', TASK);
    await client.send(
      new SendTaskSuccessCommand({ taskToken: 'token-h1', output: '{"decision":"approve"}' }),
    );

    // Act
    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn: EXECUTION }));

    // Assess
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
    ]);
    const scheduled = events[2];
    expect(scheduled?.previousEventId).toBe(events[1]?.id);
    expect(scheduled?.timestamp).toEqual(START);
    expect(scheduled?.taskScheduledEventDetails).toEqual({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      region: 'us-east-1',
      parameters: JSON.stringify(TASK.parameters),
      timeoutInSeconds: 604_800,
    });
    expect(events[1]?.stateEnteredEventDetails).toEqual({
      name: 'RequestDisableApproval',
      input: JSON.stringify(TASK.input),
    });
  });

  it('pages newest first, leaves out execution data when asked, and closes a task nobody answered', async () => {
    // Prepare
    const arn = `${EXECUTION}-2`;
    emulator.account.sfn.setStatus(arn, 'RUNNING');
    emulator.account.sfn.openTask('token-h2', { ...TASK, executionArn: arn });
    emulator.account.sfn.closeTask('token-h2');
    emulator.account.sfn.setStatus(arn, 'FAILED');

    // Act
    const first = await client.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 3 }),
    );
    const second = await client.send(
      new GetExecutionHistoryCommand({
        executionArn: arn,
        reverseOrder: true,
        maxResults: 3,
        nextToken: first.nextToken,
      }),
    );
    const bare = await client.send(
      new GetExecutionHistoryCommand({ executionArn: arn, includeExecutionData: false }),
    );

    // Assess
    expect(first.events?.map((e) => e.type)).toEqual(['ExecutionFailed', 'TaskTimedOut', 'TaskSubmitted']);
    expect(second.events?.map((e) => e.type)).toEqual(['TaskStarted', 'TaskScheduled', 'TaskStateEntered']);
    expect(second.nextToken).toBeDefined();
    expect(bare.events?.find((e) => e.type === 'TaskStateEntered')?.stateEnteredEventDetails).toEqual({
      name: 'RequestDisableApproval',
    });
  });

  it('answers ExecutionDoesNotExist for an execution it never ran', async () => {
    await expect(
      client.send(new GetExecutionHistoryCommand({ executionArn: `${EXECUTION}-never` })),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('injects no fault into calls made while faults are suspended (a person at the approval page)', async () => {
    // Prepare
    emulator.account.sfn.openTask('token-h3');
    emulator.account.addFault({
      service: 'sfn',
      operation: '*',
      error: 'AccessDeniedException',
      from: START,
      until: new Date(START.getTime() + DAY),
    });

    // Act
    const answered = await emulator.account.withoutFaults(() =>
      client.send(new SendTaskSuccessCommand({ taskToken: 'token-h3', output: '{}' })),
    );
    const after = client.send(new SendTaskHeartbeatCommand({ taskToken: 'token-h3' }));

    // Assess
    expect(answered.$metadata.httpStatusCode).toBe(200);
    await expect(after).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
