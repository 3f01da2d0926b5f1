import { AwsError } from '../../../../lib/simulator/emulator/errors.js';
import { SfnService, SnsService } from '../../../../lib/simulator/emulator/sns-sfn.js';

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
