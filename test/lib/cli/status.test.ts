import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { bufferedIo } from '../../../lib/cli/io.js';
import { PHASES, renderSummary, run, summarizeExecution } from '../../../lib/cli/status.js';
import { definitionOf, synthStack } from '../synth.js';
import {
  ASSESSMENT,
  ENV,
  executionArn,
  HistoryBuilder,
  KEY_ARN,
  KEY_ID,
  observingHistory,
  watch,
} from './fixtures.js';

const sfnMock = mockClient(SFNClient);
const kmsMock = mockClient(KMSClient);
const ARN = executionArn('app-old-20260301T090000');

const RUNNING = {
  executionArn: ARN,
  name: 'app-old-20260301T090000',
  status: 'RUNNING' as const,
  input: JSON.stringify({ keyId: KEY_ARN }),
  startDate: new Date('2026-03-01T09:00:00Z'),
};

const EVIDENCE = {
  eventID: 'ev-1',
  eventTime: '2026-03-01T20:10:00Z',
  eventName: 'Decrypt',
  errorCode: 'DisabledException',
  principal: 'arn:aws:sts::111122223333:assumed-role/billing/job',
  sourceIPAddress: '10.0.0.7',
  userAgent: 'aws-sdk-java',
};

/** The observation's result at 2026-03-02T04:00: the chain answered the token with breakage. */
function brokeAfterThreeChecks(evidence: unknown): HistoryBuilder {
  return observingHistory(ARN)
    .endWatch(
      'WatchForBreakage',
      '2026-03-02T04:00:00.000Z',
      watch(3, '2026-03-02T10:00:00.000Z', [evidence]),
    )
    .choice('ObservationVerdict')
    .enter('Task', 'RollBack');
}

describe('PHASES', () => {
  it('names a phase for every state of the synthesized workflow', () => {
    // Prepare
    const states = Object.keys(definitionOf(synthStack().template).States);

    // Act
    const unnamed = states.filter((name) => PHASES[name] === undefined);

    // Assess
    expect(states).toContain('WatchForBreakage');
    expect(unnamed).toEqual([]);
  });
});

describe('summarizeExecution', () => {
  it('tells the phase, since when the watch runs and its first check, and no next check inside the watch', () => {
    // Prepare
    const events = observingHistory(ARN).events;

    // Act
    const summary = summarizeExecution(RUNNING, events);

    // Assess
    expect(summary).toMatchObject({
      state: 'WatchForBreakage',
      phase: 'observing',
      nextCheckAt: null,
      watchingSince: '2026-03-01T10:00:03.000Z',
      firstCheckAt: '2026-03-01T16:00:00.000Z',
      checkIntervalSeconds: 21_600,
      keyId: KEY_ID,
      keyArn: KEY_ARN,
      aliases: ['alias/app-old'],
      watch: null,
      pendingApproval: null,
      outcome: null,
    });
  });

  it('tells the pending window watch the same way, without the observation result as its progress', () => {
    // Prepare
    const builder = observingHistory(ARN)
      .endWatch('WatchForBreakage', '2026-03-31T10:30:00.000Z', {
        ...watch(120, '2026-03-31T11:00:00.000Z'),
        done: true,
      })
      .choice('ObservationVerdict')
      .wait('WaitForFinalCheck', '2026-03-31T11:00:00.000Z')
      .lambda('FinalCheck', 'watch', watch(121, '2026-03-31T11:00:00.000Z'))
      .choice('FinalVerdict')
      .requestApproval('RequestDeletionApproval', 'deletion', 'TOKEN-DELETION')
      .approve('RequestDeletionApproval', 'deletion')
      .lambda('ScheduleDeletion', 'deletion', { deletionDate: '2026-05-01T12:00:00.000Z' })
      .choice('WatchPendingWindow')
      .at('2026-04-01T12:00:00.000Z')
      .pass('StartPendingWatch', {
        watch: { value: { ...watch(0, '2026-04-01T18:00:00.000Z'), phase: 'PENDING' } },
      })
      .startWatch('WatchPendingUse');

    // Act
    const summary = summarizeExecution(RUNNING, builder.events);

    // Assess
    expect(summary).toMatchObject({
      state: 'WatchPendingUse',
      phase: 'pending deletion window',
      nextCheckAt: null,
      watchingSince: '2026-04-01T12:00:03.000Z',
      firstCheckAt: '2026-04-01T18:00:00.000Z',
      watch: null,
    });
  });

  it('gives the next check of a Wait state and the result the watch ended with', () => {
    // Prepare
    const builder = observingHistory(ARN)
      .endWatch('WatchForBreakage', '2026-03-31T10:30:00.000Z', {
        ...watch(120, '2026-03-31T11:00:00.000Z'),
        done: true,
      })
      .choice('ObservationVerdict')
      .enter('Wait', 'WaitForFinalCheck');

    // Act
    const summary = summarizeExecution(RUNNING, builder.events);

    // Assess
    expect(summary).toMatchObject({
      phase: 'final check',
      nextCheckAt: '2026-03-31T11:00:00.000Z',
      watchingSince: null,
      firstCheckAt: null,
      watch: { checks: 120, scanned: 4800, evidenceCount: 0 },
    });
  });

  it("reports the evidence from the watch task's result and no next check once the watch ended", () => {
    // Prepare
    const builder = brokeAfterThreeChecks(EVIDENCE);

    // Act
    const summary = summarizeExecution(RUNNING, builder.events);

    // Assess
    expect(summary.phase).toBe('rolling back');
    expect(summary.nextCheckAt).toBeNull();
    expect(summary.watchingSince).toBeNull();
    expect(summary.watch?.checks).toBe(3);
    expect(summary.watch?.evidence).toEqual([EVIDENCE]);
    expect(summary.watch?.evidenceCount).toBe(1);
  });

  it('does not pass off the watch a failed watch task started with as its result', () => {
    // Prepare
    const builder = observingHistory(ARN)
      .failWatch(
        '2026-03-05T06:00:00.000Z',
        'KeyChangedExternallyError',
        'The key was enabled by someone else.',
      )
      .enter('Task', 'Restore')
      .exit('Task', 'Restore', { restore: { value: { restored: true } } })
      .enter('Choice', 'RestoreVerdict');

    // Act
    const summary = summarizeExecution(RUNNING, builder.events);

    // Assess
    expect(summary.phase).toBe('restoring after an error');
    expect(summary.watchingSince).toBeNull();
    expect(summary.watch).toBeNull();
  });

  it('shows a pending approval', () => {
    // Prepare
    const builder = new HistoryBuilder(ARN)
      .pass('Start')
      .lambda('AssessKey', 'assessment', ASSESSMENT)
      .choice('IsRefused')
      .requestApproval('RequestDisableApproval', 'disable', 'T');

    // Act
    const summary = summarizeExecution(RUNNING, builder.events);

    // Assess
    expect(summary.phase).toBe('waiting for approval to disable');
    expect(summary.pendingApproval).toMatchObject({ state: 'RequestDisableApproval', step: 'disable' });
    expect(JSON.stringify(summary)).not.toContain('"T"');
    expect(renderSummary(summary)).toContain(
      'npx kms-deletion-guard approve app-old-20260301T090000 --step disable (or reject)',
    );
  });

  it('gives the Fail error and cause as the outcome of a failed execution', () => {
    // Prepare
    const description = {
      ...RUNNING,
      status: 'FAILED' as const,
      error: 'ROLLED_BACK',
      cause: 'ROLLED_BACK: re-enabled the key this execution disabled.',
      stopDate: new Date('2026-03-02T05:00:00Z'),
    };

    // Act
    const summary = summarizeExecution(description, observingHistory(ARN).events);

    // Assess
    expect(summary.outcome).toBe('ROLLED_BACK');
    expect(summary.cause).toBe('ROLLED_BACK: re-enabled the key this execution disabled.');
    expect(summary.nextCheckAt).toBeNull();
  });

  it("reads DELETION_SCHEDULED and the deletion date from a succeeded execution's output", () => {
    // Prepare
    const description = {
      ...RUNNING,
      status: 'SUCCEEDED' as const,
      output: JSON.stringify({
        outcome: 'DELETION_SCHEDULED',
        keyArn: KEY_ARN,
        deletionDate: '2026-05-01T00:00:00Z',
      }),
    };

    // Act
    const summary = summarizeExecution(description, []);

    // Assess
    expect(summary.outcome).toBe('DELETION_SCHEDULED');
    expect(summary.cause).toContain('2026-05-01T00:00:00Z');
  });

  it('warns that the restore did not run when the execution was stopped from outside', () => {
    // Act
    const summary = summarizeExecution({ ...RUNNING, status: 'ABORTED' }, observingHistory(ARN).events);

    // Assess
    expect(summary.outcome).toBe('ABORTED');
    expect(summary.cause).toContain('restore step did not run');
  });
});

describe('status', () => {
  afterEach(() => {
    sfnMock.reset();
    kmsMock.reset();
  });

  it('reads every page of the history and prints the phase, the watch and where its checks report', async () => {
    // Prepare
    const events = observingHistory(ARN).events;
    const half = Math.floor(events.length / 2);
    sfnMock.on(DescribeExecutionCommand).resolves(RUNNING);
    sfnMock
      .on(GetExecutionHistoryCommand, { nextToken: undefined })
      .resolves({ events: events.slice(0, half), nextToken: 'p2' })
      .on(GetExecutionHistoryCommand, { nextToken: 'p2' })
      .resolves({ events: events.slice(half) });
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await run([ARN], io);

    // Assess
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const out = io.out();
    expect(out).toContain('Phase      observing (WatchForBreakage)');
    expect(out).toContain(
      'Watching   since 2026-03-01T10:00:03.000Z, first check at 2026-03-01T16:00:00.000Z, then every 6 hours',
    );
    expect(out).toContain("their progress is in the check function's logs");
    expect(out).not.toContain('Next check');
    expect(out).not.toContain('Evidence');
    expect(out).toContain(`Key        ${KEY_ARN} (alias/app-old)`);
  });

  it('finds the running execution of a key given by its ID and prints JSON', async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN } });
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: ARN } as never] });
    sfnMock.on(DescribeExecutionCommand).resolves(RUNNING);
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: observingHistory(ARN).events });
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await run([KEY_ID, '--json'], io);

    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(io.out());
    expect(summary).toMatchObject({
      executionArn: ARN,
      phase: 'observing',
      nextCheckAt: null,
      watchingSince: '2026-03-01T10:00:03.000Z',
      checkIntervalSeconds: 21_600,
    });
  });

  it('prints the evidence lines without letting control characters through', async () => {
    // Prepare
    const hostile = { ...EVIDENCE, userAgent: 'x', principal: 'evil\u001b[2J\nforged line' };
    const builder = brokeAfterThreeChecks(hostile);
    sfnMock.on(DescribeExecutionCommand).resolves(RUNNING);
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: builder.events });
    const io = bufferedIo({ env: ENV });

    // Act
    await run([ARN], io);

    // Assess
    expect(io.out()).toContain(
      '1 record show the key is still needed (3 checks, 120 CloudTrail records scanned)',
    );
    expect(io.out()).toContain('evil\\u001b[2J\\u000aforged line');
    expect(io.out()).not.toContain('\u001b');
  });

  it('fails with one line when the execution does not exist', async () => {
    // Prepare
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await run([ARN], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toBe(
      `kms-deletion-guard: No execution found for ${ARN}: check the name or ARN with \`npx kms-deletion-guard list\`.\n`,
    );
  });
});
