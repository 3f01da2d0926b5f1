import { DescribeKeyCommand, KMSClient, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { approve, reject } from '../../../lib/cli/decide.js';
import { bufferedIo } from '../../../lib/cli/io.js';
import { findExpiredApproval, findPendingApproval } from '../../../lib/cli/status.js';
import {
  ACCOUNT,
  ASSESSMENT,
  ENV,
  executionArn,
  HistoryBuilder,
  KEY_ARN,
  KEY_ID,
  observingHistory,
  REGION,
  watch,
} from './fixtures.js';

const sfnMock = mockClient(SFNClient);
const kmsMock = mockClient(KMSClient);
const stsMock = mockClient(STSClient);
/** The person running the CLI, as STS names them. */
const CALLER = {
  Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/KeyApprovers/carol`,
  UserId: 'AROAEXAMPLEID:carol',
  Account: ACCOUNT,
};
const IDENTITY = { kind: 'iam', arn: CALLER.Arn, userId: CALLER.UserId, account: ACCOUNT };

beforeEach(() => {
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves(CALLER);
});
const NOW = new Date('2026-03-02T10:15:00.000Z');
const ARN = executionArn('app-old-20260301T090000');

function running(): void {
  sfnMock.on(DescribeExecutionCommand).resolves({
    executionArn: ARN,
    name: 'app-old-20260301T090000',
    status: 'RUNNING',
    input: JSON.stringify({ keyId: KEY_ARN }),
    startDate: new Date('2026-03-01T09:00:00Z'),
  });
}

/** Waiting for the first approval; the first publish was throttled and retried with a new token. */
function waitingForDisableApproval(): HistoryBuilder {
  return new HistoryBuilder(ARN)
    .pass('Start')
    .lambda('AssessKey', 'assessment', ASSESSMENT)
    .choice('IsRefused')
    .requestApproval('RequestDisableApproval', 'disable', 'TOKEN-DISABLE-1', 'TOKEN-DISABLE-0');
}

/** Observation over, waiting for the second approval. */
function waitingForDeletionApproval(): HistoryBuilder {
  return observingHistory(ARN)
    .endWatch('WatchForBreakage', '2026-03-31T10:30:00.000Z', {
      ...watch(120, '2026-03-31T11:00:00.000Z'),
      done: true,
    })
    .choice('ObservationVerdict')
    .wait('WaitForFinalCheck', '2026-03-31T11:00:00.000Z')
    .lambda('FinalCheck', 'watch', watch(121, '2026-03-31T11:00:00.000Z'))
    .choice('FinalVerdict')
    .requestApproval('RequestDeletionApproval', 'deletion', 'TOKEN-DELETION');
}

function history(builder: HistoryBuilder): void {
  sfnMock.on(GetExecutionHistoryCommand).resolves({ events: builder.events });
}

describe('findPendingApproval', () => {
  it('takes the token of the retried publish, not the throttled one', () => {
    // Prepare
    const events = waitingForDisableApproval().events;

    // Act
    const pending = findPendingApproval(events);

    // Assess
    expect(pending).toMatchObject({
      state: 'RequestDisableApproval',
      step: 'disable',
      token: 'TOKEN-DISABLE-1',
    });
  });

  it('finds nothing once the approval task has succeeded', () => {
    // Prepare
    const events = waitingForDisableApproval().approve('RequestDisableApproval', 'disable').events;

    // Act
    const pending = findPendingApproval(events);

    // Assess
    expect(pending).toBeNull();
  });

  it('finds nothing after the approval timed out', () => {
    // Prepare
    const builder = waitingForDisableApproval();
    builder.events.push({
      id: builder.events.length + 1,
      type: 'TaskTimedOut',
      timestamp: new Date('2026-03-08T09:00:00Z'),
      taskTimedOutEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        error: 'States.Timeout',
      },
    });

    // Act
    const pending = findPendingApproval(builder.events);

    // Assess
    expect(pending).toBeNull();
  });

  it('ignores Lambda and watch tasks and finds the deletion approval after the observation', () => {
    // Prepare
    const events = waitingForDeletionApproval().events;

    // Act
    const pending = findPendingApproval(events);

    // Assess
    expect(pending).toMatchObject({
      state: 'RequestDeletionApproval',
      step: 'deletion',
      token: 'TOKEN-DELETION',
    });
  });
});

describe('approve', () => {
  afterEach(() => {
    sfnMock.reset();
  });

  it('answers the pending approval with the token from the history and a decision record', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve(
      [ARN, '--step', 'disable', '--comment', 'retired with app v1', '--by', 'carol'],
      io,
    );

    // Assess
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.taskToken).toBe('TOKEN-DISABLE-1');
    expect(JSON.parse(input?.output ?? '')).toEqual({
      decision: 'approve',
      step: 'disable',
      by: CALLER.Arn,
      identity: IDENTITY,
      via: 'cli',
      declaredBy: 'carol',
      at: '2026-03-02T10:15:00.000Z',
      comment: 'retired with app v1',
    });
    expect(io.out()).toContain(`Approved disabling the key for ${ARN} as ${CALLER.Arn} (carol)`);
    expect(io.out()).toMatch(
      /^Answering disabling the key \(--step disable\) for key arn:aws:kms:eu-west-1:111122223333:key\/1234abcd-12ab-34cd-56ef-1234567890ab \(alias\/app-old\)\.\n/,
    );
  });

  it('answers the deletion approval once the observation is over, by execution name', async () => {
    // Prepare
    running();
    history(waitingForDeletionApproval());
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve(['app-old-20260301T090000', '--step', 'deletion', '--json'], io);

    // Assess
    expect(code).toBe(0);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(ARN);
    const input = sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(input?.taskToken).toBe('TOKEN-DELETION');
    expect(JSON.parse(input?.output ?? '')).toEqual({
      decision: 'approve',
      step: 'deletion',
      by: CALLER.Arn,
      identity: IDENTITY,
      via: 'cli',
      declaredBy: 'alice',
      at: NOW.toISOString(),
    });
    expect(JSON.parse(io.out())).toMatchObject({
      executionArn: ARN,
      keyArn: KEY_ARN,
      aliases: ['alias/app-old'],
      decision: 'approve',
      step: 'deletion',
    });
  });

  it('refuses with one line and exit 1 when the execution waits for no approval', async () => {
    // Prepare
    running();
    history(observingHistory(ARN));
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toMatch(
      /^kms-deletion-guard: Execution .* is not waiting for an approval \(it is at observing\)/,
    );
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('refuses an execution that is no longer running', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: ARN, status: 'FAILED', error: 'REJECTED' });
    history(waitingForDisableApproval().approve('RequestDisableApproval', 'disable'));
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--json'], io);

    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ error: { name: 'ExecutionNotRunningError' } });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('says the request was answered already when Step Functions no longer knows the token', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    const gone = Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
    sfnMock.on(SendTaskSuccessCommand).rejects(gone);
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain('can no longer be answered (TaskTimedOut)');
  });

  it('rejects a comment with control characters before any call', async () => {
    // Prepare
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--comment', 'ok\u001b[2J'], io);

    // Assess
    expect(code).toBe(2);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('approve and reject after the approval expired', () => {
  const EXPIRED_AT = '2026-03-08T09:00:30.000Z';

  afterEach(() => {
    sfnMock.reset();
  });

  /** The approval task timed out at EXPIRED_AT; the workflow went on without it. */
  function timedOut(builder: HistoryBuilder, next: string): HistoryBuilder {
    builder.events.push({
      id: builder.events.length + 1,
      type: 'TaskTimedOut',
      timestamp: new Date(EXPIRED_AT),
      taskTimedOutEventDetails: {
        resourceType: 'lambda',
        resource: 'invoke.waitForTaskToken',
        error: 'States.Timeout',
      },
    });
    builder.events.push({
      id: builder.events.length + 1,
      type: 'FailStateEntered',
      timestamp: new Date(EXPIRED_AT),
      stateEnteredEventDetails: { name: next },
    });
    return builder;
  }

  function sent(): number {
    return (
      sfnMock.commandCalls(SendTaskSuccessCommand).length +
      sfnMock.commandCalls(SendTaskFailureCommand).length
    );
  }

  it('says when the disable approval expired, that nothing was changed, and how to start again', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({
      executionArn: ARN,
      status: 'FAILED',
      error: 'APPROVAL_EXPIRED',
      input: JSON.stringify({ keyId: KEY_ARN }),
    });
    history(timedOut(waitingForDisableApproval(), 'DisableApprovalExpired'));
    const io = bufferedIo({ env: ENV, now: () => new Date('2026-03-09T00:00:00Z') });

    // Act
    const code = await approve([ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain(
      `Execution ${ARN}: This disable approval expired at ${EXPIRED_AT}; nothing was changed by this answer.`,
    );
    expect(io.err()).toContain(`start a new execution (npx kms-deletion-guard start ${KEY_ARN})`);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(sent()).toBe(0);
  });

  it('says so for a deletion approval that expired while the workflow restores the key', async () => {
    // Prepare
    running();
    history(timedOut(waitingForDeletionApproval(), 'RestoreAfterExpiry'));
    const io = bufferedIo({ env: ENV, now: () => new Date('2026-04-08T00:00:00Z') });

    // Act
    const code = await reject([ARN, '--step', 'deletion', '--json'], io);

    // Assess
    expect(code).toBe(1);
    const error = (JSON.parse(io.out()) as { error: { name: string; message: string } }).error;
    expect(error.name).toBe('ApprovalExpiredError');
    expect(error.message).toContain('This deletion approval expired at');
    expect(error.message).toContain('without scheduling the deletion');
    expect(sent()).toBe(0);
  });

  it('sends nothing once the timeout has passed, even while Step Functions still shows it waiting', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    const io = bufferedIo({ env: ENV, now: () => new Date('2026-03-15T10:15:00.000Z') });

    // Act
    const code = await approve([ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toMatch(
      /This disable approval expired at 2026-03-08T\d\d:\d\d:\d\d\.\d{3}Z; nothing was changed/,
    );
    expect(sent()).toBe(0);
  });

  it.each(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist'])(
    'says the approval expired when Step Functions answers %s because the timeout came first',
    async (name) => {
      // Prepare
      running();
      sfnMock
        .on(GetExecutionHistoryCommand)
        .resolvesOnce({ events: waitingForDisableApproval().events })
        .resolves({ events: timedOut(waitingForDisableApproval(), 'DisableApprovalExpired').events });
      sfnMock.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('gone'), { name }));
      const io = bufferedIo({ env: ENV, now: () => NOW });

      // Act
      const code = await approve([ARN, '--step', 'disable'], io);

      // Assess
      expect(code).toBe(1);
      expect(io.err()).toContain(`expired at ${EXPIRED_AT}; nothing was changed by this answer`);
    },
  );
});

describe('findExpiredApproval', () => {
  it('finds nothing while an approval waits or after it was answered', () => {
    // Act / Assess
    expect(findExpiredApproval(waitingForDisableApproval().events)).toBeNull();
    expect(
      findExpiredApproval(waitingForDisableApproval().approve('RequestDisableApproval', 'disable').events),
    ).toBeNull();
  });
});

describe('approve and reject: who decides', () => {
  afterEach(() => {
    sfnMock.reset();
  });

  it('records the caller STS names, not a typed name, and answers when the stack names no approvers', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--step', 'disable', '--by', 'the-ceo@example.com', '--json'], io);

    // Assess
    expect(code).toBe(0);
    expect(stsMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    const output = JSON.parse(sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '');
    expect(output).toMatchObject({ by: CALLER.Arn, identity: IDENTITY, declaredBy: 'the-ceo@example.com' });
    expect(JSON.parse(io.out())).toMatchObject({ by: CALLER.Arn, declaredBy: 'the-ceo@example.com' });
  });

  it.each([
    ['the role of its session', [`arn:aws:iam::${ACCOUNT}:role/KeyApprovers`]],
    ['its own session', [CALLER.Arn]],
  ])('answers a caller the approvers list names by %s', async (_case, approvers) => {
    // Prepare
    running();
    history(
      new HistoryBuilder(ARN)
        .pass('Start')
        .lambda('AssessKey', 'assessment', ASSESSMENT)
        .requestApproval('RequestDisableApproval', 'disable', 'TOKEN-D', undefined, { approvers }),
    );
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(0);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it.each(['approve', 'reject'] as const)(
    'refuses to %s for a caller the approvers list does not name, and answers nothing',
    async (decision) => {
      // Prepare
      running();
      history(
        new HistoryBuilder(ARN)
          .pass('Start')
          .lambda('AssessKey', 'assessment', ASSESSMENT)
          .requestApproval('RequestDisableApproval', 'disable', 'TOKEN-D', undefined, {
            approvers: [`arn:aws:iam::${ACCOUNT}:role/SecurityApprovers`, 'dana@example.com'],
          }),
      );
      const io = bufferedIo({ env: ENV, now: () => NOW });

      // Act
      const code = await (decision === 'approve' ? approve : reject)(
        [ARN, '--step', 'disable', '--by', 'dana@example.com', '--json'],
        io,
      );

      // Assess
      expect(code).toBe(1);
      const { error } = JSON.parse(io.out());
      expect(error.name).toBe('NotAnApproverError');
      expect(error.message).toContain(CALLER.Arn);
      expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    },
  );

  it('answers nothing when STS cannot say who the caller is', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    stsMock
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error('expired'), { name: 'ExpiredToken' }));
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain('ExpiredToken');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('still answers an execution started before links had secrets (its approval an SNS publish)', async () => {
    // Prepare
    running();
    history(
      new HistoryBuilder(ARN)
        .pass('Start')
        .lambda('AssessKey', 'assessment', ASSESSMENT)
        .requestApproval('RequestDisableApproval', 'disable', 'TOKEN-OLD', undefined, { form: 'sns' }),
    );
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(0);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe('TOKEN-OLD');
  });
});

describe('reject', () => {
  afterEach(() => {
    sfnMock.reset();
  });

  it('fails the pending task with ApprovalRejected and a cause naming who, when and why', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    sfnMock.on(SendTaskFailureCommand).resolves({});
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await reject([ARN, '--step', 'disable', '--comment', 'still used by billing'], io);

    // Assess
    expect(code).toBe(0);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    const input = sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(input).toEqual({
      taskToken: 'TOKEN-DISABLE-1',
      error: 'ApprovalRejected',
      cause: `Rejected with the kms-deletion-guard CLI by ${CALLER.Arn} (IAM identity verified by AWS; self-declared name alice) at 2026-03-02T10:15:00.000Z: still used by billing`,
    });
    expect(io.out()).toContain('ends REJECTED; the key was not changed');
  });

  it('says a rejected deletion restores the key', async () => {
    // Prepare
    running();
    history(waitingForDeletionApproval());
    sfnMock.on(SendTaskFailureCommand).resolves({});
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await reject([ARN, '--step', 'deletion'], io);

    // Assess
    expect(code).toBe(0);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.taskToken).toBe('TOKEN-DELETION');
    expect(io.out()).toContain('restores the key');
  });
});

describe('approve and reject: the step answered', () => {
  afterEach(() => {
    sfnMock.reset();
  });

  it('refuses without --step as a usage error (exit 2) naming the pending step and the command', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--json'], io);

    // Assess
    expect(code).toBe(2);
    const { error } = JSON.parse(io.out());
    expect(error.name).toBe('MissingStepError');
    expect(error.message).toContain('waits for approval of the disable step');
    expect(error.message).toContain(`\`npx kms-deletion-guard approve ${ARN} --step disable\``);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('names the deletion step and the reject command when a reject lacks --step', async () => {
    // Prepare
    running();
    history(waitingForDeletionApproval());
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await reject([ARN], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(`npx kms-deletion-guard reject ${ARN} --step deletion`);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('refuses an approval whose --step differs from the pending step and answers nothing', async () => {
    // Prepare
    running();
    history(waitingForDisableApproval());
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--step', 'deletion', '--json'], io);

    // Assess
    expect(code).toBe(1);
    const { error } = JSON.parse(io.out());
    expect(error.name).toBe('StepMismatchError');
    expect(error.message).toContain('waits for approval of the disable step, not deletion');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('refuses a rejection whose --step differs from the pending step and answers nothing', async () => {
    // Prepare
    running();
    history(waitingForDeletionApproval());
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await reject([ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain('not disable: nothing was answered');
    expect(sfnMock.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('rejects a --step that is neither disable nor deletion before any call', async () => {
    // Prepare
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([ARN, '--step', 'delete'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain('--step must be disable or deletion; received "delete".');
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('approve and reject: the key given', () => {
  const MRK_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
  const PRIMARY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${MRK_ID}`;
  const REPLICA_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/${MRK_ID}`;
  const PRIMARY_EXECUTION = executionArn('primary-20260301T090000');
  const REPLICA_EXECUTION = executionArn('replica-20260301T090000');

  /** Running executions, listed in this order, each with the key its input names. */
  function runningFor(executions: readonly (readonly [string, string])[]): void {
    sfnMock.on(ListExecutionsCommand).resolves({
      executions: executions.map(([arn]) => ({ executionArn: arn }) as never),
    });
    for (const [arn, keyId] of executions) {
      sfnMock.on(DescribeExecutionCommand, { executionArn: arn }).resolves({
        executionArn: arn,
        name: arn.split(':').at(-1),
        status: 'RUNNING',
        input: JSON.stringify({ keyId }),
      });
      const events = new HistoryBuilder(arn, { keyId })
        .pass('Start')
        .lambda('AssessKey', 'assessment', ASSESSMENT)
        .choice('IsRefused')
        .requestApproval('RequestDisableApproval', 'disable', `TOKEN-${arn.split(':').at(-1)}`).events;
      sfnMock.on(GetExecutionHistoryCommand, { executionArn: arn }).resolves({ events });
      sfnMock
        .on(GetExecutionHistoryCommand, { executionArn: arn, reverseOrder: true })
        .resolves({ events: [...events].reverse() });
    }
    sfnMock.on(SendTaskSuccessCommand).resolves({});
  }

  afterEach(() => {
    sfnMock.reset();
    kmsMock.reset();
  });

  it("answers no other Region's execution for a replica's ARN, though the key IDs are the same", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: MRK_ID, Arn: REPLICA_ARN } });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    runningFor([[PRIMARY_EXECUTION, PRIMARY_ARN]]);
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([REPLICA_ARN, '--step', 'disable', '--json'], io);

    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(io.out()).error.name).toBe('ExecutionNotFoundError');
    expect(kmsMock.commandCalls(DescribeKeyCommand)[0]?.args[0].input.KeyId).toBe(REPLICA_ARN);
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it("answers the replica's own execution, not the primary's listed before it", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: MRK_ID, Arn: REPLICA_ARN } });
    runningFor([
      [PRIMARY_EXECUTION, PRIMARY_ARN],
      [REPLICA_EXECUTION, REPLICA_ARN],
    ]);
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([REPLICA_ARN, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(0);
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls.map((call) => call.args[0].input.taskToken)).toEqual(['TOKEN-replica-20260301T090000']);
  });

  it("matches a bare key ID to the key of the CLI's Region and an input's bare ID to the workflow's", async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: MRK_ID, Arn: PRIMARY_ARN } });
    runningFor([
      [REPLICA_EXECUTION, REPLICA_ARN],
      [PRIMARY_EXECUTION, MRK_ID],
    ]);
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await reject([MRK_ID, '--step', 'disable'], io);

    // Assess
    expect(code).toBe(0);
    expect(kmsMock.commandCalls(DescribeKeyCommand)[0]?.args[0].input.KeyId).toBe(MRK_ID);
    const calls = sfnMock.commandCalls(SendTaskFailureCommand);
    expect(calls.map((call) => call.args[0].input.taskToken)).toEqual(['TOKEN-primary-20260301T090000']);
  });

  it('lists the running executions of a key that has several and answers none', async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN } });
    runningFor([
      [executionArn('first-20260301T090000'), KEY_ARN],
      [executionArn('second-20260302T090000'), KEY_ID],
    ]);
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await approve([KEY_ARN, '--step', 'disable', '--json'], io);

    // Assess
    expect(code).toBe(1);
    const { error } = JSON.parse(io.out());
    expect(error.name).toBe('SeveralExecutionsError');
    expect(error.message).toContain(
      `Key ${KEY_ARN} has 2 running executions: first-20260301T090000 (RUNNING, at RequestDisableApproval); ` +
        'second-20260302T090000 (RUNNING, at RequestDisableApproval). Nothing was answered',
    );
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });
});
