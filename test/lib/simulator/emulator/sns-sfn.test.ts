import {
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
