import '../../../lib/simulator/polyfill.js';
import validator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { WHOLE_NUMBER_SETTINGS } from '../../../lambdas/contracts/config.js';
import type { AslDefinition, AslState } from '../synth.js';
import { definitionOf, synthStack } from '../synth.js';

const { template } = synthStack();
const definition = definitionOf(template);

function successors(state: AslState): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

/** States reachable from `from` when the states in `removed` are taken out of the graph. */
function reachable(def: AslDefinition, from: string, removed: ReadonlySet<string> = new Set()): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (seen.has(name) || removed.has(name)) continue;
    seen.add(name);
    const state = def.States[name];
    if (!state) throw new Error(`Transition to a missing state: ${name}`);
    queue.push(...successors(state));
  }
  return seen;
}

/** The steps that give the key back: after an error or a verdict, and after the deletion approval's answer. */
const RESTORE_STATES = new Set([
  ...['Restore', 'RollBack', 'CancelDeletion'],
  ...['RestoreAfterRejection', 'RestoreAfterExpiry', 'RestoreAfterInventory'],
]);

describe('Workflow definition', () => {
  it('passes asl-validator', () => {
    // Act
    const result = validator(definition as unknown as object);

    // Assess
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('calls ScheduleKeyDeletion only after disable, observation, final check and a second approval', () => {
    // Prepare
    const gates = [
      'TakeInventory',
      'DisableKey',
      'WatchForBreakage',
      'FinalCheck',
      'RequestDeletionApproval',
      'RequestDisableApproval',
      'TakeInventoryBeforeDeletion',
    ];
    expect(reachable(definition, definition.StartAt).has('ScheduleDeletion')).toBe(true);

    // Act / Assess: taking any gate out of the graph makes ScheduleDeletion unreachable.
    for (const gate of gates) {
      expect(reachable(definition, definition.StartAt, new Set([gate])).has('ScheduleDeletion'), gate).toBe(
        false,
      );
    }
  });

  it('sends every failure after DisableKey to a restore step', () => {
    // Prepare
    const afterDisable = reachable(definition, 'DisableKey');

    // Act
    const catches = [...afterDisable].flatMap((name) =>
      (definition.States[name]?.Catch ?? []).map((c) => ({ from: name, to: c.Next })),
    );

    // Assess
    expect(catches.length).toBeGreaterThan(5);
    for (const { from, to } of catches) {
      if (from === 'DisableKey' && to === 'PrepareUsedSinceAssessment') {
        // The one refusal after approval: DisableKey changed nothing, so there is nothing to restore.
        expect(definition.States.DisableKey?.Catch?.[0]).toMatchObject({
          ErrorEquals: ['KeyUsedSinceAssessmentError'],
          Next: 'PrepareUsedSinceAssessment',
        });
        continue;
      }
      if (RESTORE_STATES.has(from)) {
        // A restore that keeps failing goes to the manual-action notice, never towards deletion.
        expect(to, from).toBe('PrepareRestoreFailedNotice');
      } else {
        expect(RESTORE_STATES.has(to), `${from} -> ${to}`).toBe(true);
      }
    }
  });

  it('never reaches deletion from a restore step', () => {
    for (const name of RESTORE_STATES) {
      const after = reachable(definition, name);
      expect(after.has('ScheduleDeletion'), name).toBe(false);
      expect(after.has('Done'), name).toBe(false);
    }
  });

  it('retries transient KMS and Lambda errors with jitter but not NotFoundException or InvalidArnException', () => {
    // Prepare
    const lambdaTasks = Object.entries(definition.States).filter(
      ([, s]) => s.Type === 'Task' && s.Resource === 'arn:aws:states:::lambda:invoke',
    );

    // Assess
    expect(lambdaTasks.length).toBeGreaterThanOrEqual(9);
    for (const [name, state] of lambdaTasks) {
      const retried = (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
      for (const error of [
        'ThrottlingException',
        'KMSInternalException',
        'DependencyTimeoutException',
        'Lambda.ServiceException',
      ]) {
        expect(retried, `${name} retries ${error}`).toContain(error);
      }
      if (!RESTORE_STATES.has(name)) {
        expect(retried, name).not.toContain('NotFoundException');
        expect(retried, name).not.toContain('InvalidArnException');
        expect(retried, name).not.toContain('States.ALL');
      }
      for (const retry of state.Retry ?? []) {
        expect(retry, name).toMatchObject({ JitterStrategy: 'FULL' });
      }
    }
  });

  it('asks the request function for each approval with the token, the step, the texts and the key, never a link', () => {
    for (const [name, step, textPath, subjectPath] of [
      ['RequestDisableApproval', 'disable', '$.assessment.value.summaryText', '$.assessment.value.subject'],
      ['RequestDeletionApproval', 'deletion', '$.watch.value.reportText', '$.watch.value.subject'],
    ] as const) {
      // Prepare
      const state = definition.States[name];
      const payload = state?.Parameters?.Payload as Record<string, unknown>;

      // Assess: the token goes to the function, which makes the link's secret; the definition holds none.
      expect(state?.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(JSON.stringify(state?.Parameters?.FunctionName)).toContain('GuardRequestApprovalFunction');
      expect(payload).toMatchObject({
        'executionArn.$': '$$.Execution.Id',
        'taskToken.$': '$$.Task.Token',
        step,
        'subject.$': subjectPath,
        'text.$': textPath,
        'keyArn.$': '$.assessment.value.key.keyArn',
        timeoutSeconds: 7 * 24 * 3600,
        approvers: [],
      });
      expect(JSON.stringify(state)).not.toMatch(/[?&](token|link)=/);
      expect(state?.ResultPath).toBe(`$.${step}Approval`);
    }
    // The deletion request names who approved the disable.
    expect(
      (
        definition.States.RequestDeletionApproval?.Parameters?.Payload as Record<string, unknown> | undefined
      )?.['previousDecision.$'],
    ).toBe('$.disableApproval');
  });

  it('hands the stack’s approvers to every request', () => {
    // Prepare
    const approvers = ['arn:aws:iam::111122223333:role/KeyApprovers', 'alice@example.com'];
    const named = definitionOf(synthStack({ cloudTrailLogGroupName: 'trail', approvers }).template);

    // Assess
    for (const name of ['RequestDisableApproval', 'RequestDeletionApproval']) {
      expect(
        (named.States[name]?.Parameters?.Payload as Record<string, unknown> | undefined)?.approvers,
      ).toEqual(approvers);
    }
  });

  it('retries a request whose e-mail SNS throttled, and catches a rejection, the timeout and the rest', () => {
    for (const name of ['RequestDisableApproval', 'RequestDeletionApproval']) {
      // Prepare
      const state = definition.States[name];

      // Assess
      expect(state?.Retry?.flatMap((r) => r.ErrorEquals)).toEqual(
        expect.arrayContaining([
          'Lambda.ServiceException',
          'ThrottledException',
          'InternalErrorException',
          'ProvisionedThroughputExceededException',
        ]),
      );
      expect(state?.Catch?.map((c) => c.ErrorEquals)).toEqual([
        ['ApprovalRejected'],
        ['States.Timeout'],
        ['States.ALL'],
      ]);
    }
  });

  it('asks for approval with a task token and a timeout, and waits from computed timestamps', () => {
    for (const name of ['RequestDisableApproval', 'RequestDeletionApproval']) {
      const state = definition.States[name];
      expect(state?.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(state?.TimeoutSeconds).toBe(7 * 24 * 3600);
    }
    // Until the final check, and until the deletion date (the fast path stays active to the end).
    const waits = Object.values(definition.States).filter((s) => s.Type === 'Wait');
    expect(waits.length).toBe(2);
    for (const wait of waits) {
      expect(wait.TimestampPath ?? wait.SecondsPath).toBeDefined();
    }
  });

  it('loops only to continue a split search, so the transitions of an execution do not grow with the observation', () => {
    // Prepare: depth-first search for a cycle through Next, Default, Choices and Catch.
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycles: string[] = [];
    const visit = (name: string, path: readonly string[]) => {
      if (done.has(name)) return;
      if (visiting.has(name)) {
        cycles.push([...path.slice(path.indexOf(name)), name].join(' -> '));
        return;
      }
      visiting.add(name);
      for (const next of successors(definition.States[name] as AslState)) visit(next, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };

    // Act
    visit(definition.StartAt, []);

    // Assess: each loop goes back to the same step while its answer carries where its search stopped.
    expect(cycles.sort()).toEqual([
      'CheckAtDeletionDate -> DeletionDateVerdict -> CheckAtDeletionDate',
      'FinalCheck -> FinalVerdict -> FinalCheck',
      'ScheduleDeletion -> WatchPendingWindow -> ContinueScheduleDeletion -> ScheduleDeletion',
    ]);
    expect((definition.States.FinalVerdict as AslState).Choices?.[0]).toEqual({
      Variable: '$.watch.value.resume',
      IsPresent: true,
      Next: 'FinalCheck',
    });
    expect((definition.States.DeletionDateVerdict as AslState).Choices?.[0]).toEqual({
      Variable: '$.watch.value.resume',
      IsPresent: true,
      Next: 'CheckAtDeletionDate',
    });
    expect((definition.States.WatchPendingWindow as AslState).Choices?.[0]).toEqual({
      Variable: '$.deletion.value.resume',
      IsPresent: true,
      Next: 'ContinueScheduleDeletion',
    });
  });

  it.each([
    ['WatchForBreakage', 'OBSERVE'],
    ['WatchPendingUse', 'PENDING'],
  ])('waits out the %s watch in one task-token state kept alive by heartbeats', (name, phase) => {
    // Prepare
    const state = definition.States[name] as AslState;
    const parameters = state.Parameters as { FunctionName: unknown; Payload: Record<string, unknown> };
    const checkInterval = 6 * 3600;
    const lag = 30 * 60;

    // Assess: the check chain gets the token and answers it; a silent chain times out.
    expect(state.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(parameters.Payload).toMatchObject({ phase, trigger: 'start', 'taskToken.$': '$$.Task.Token' });
    expect(state.HeartbeatSeconds).toBe(2 * checkInterval + lag + 3600);
    if (phase === 'OBSERVE') {
      // The backstop allows the longest observation an execution's input may ask for, not the
      // stack's 30-day default: a 100-day observation must not be cut short after 31 days.
      const longest = WHOLE_NUMBER_SETTINGS.observationDays.max;
      expect(state.TimeoutSeconds).toBe(longest * 86_400 + 2 * checkInterval + lag + 86_400);
    } else {
      // KMS deletes the key at the end of the window: the pending watch times out before it, at the
      // deadline ScheduleDeletion computed.
      expect(state.TimeoutSecondsPath).toBe('$.deletion.value.watchTimeoutSeconds');
      expect(state.TimeoutSeconds).toBeUndefined();
    }
    expect(state.ResultPath).toBe('$.watch');
    // Every failure of the watch (SendTaskFailure, heartbeat, timeout) restores the key, and only
    // Lambda's own service errors of the start call are retried (a retry starts a new chain).
    expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Restore' }]);
    for (const retry of state.Retry ?? []) {
      for (const error of retry.ErrorEquals) expect(error).toMatch(/^Lambda\./);
    }
  });

  it.each([
    ['ObservationVerdict', 'RollBack', 'WaitForFinalCheck', 'ObservationIncomplete'],
    ['PendingVerdict', 'CancelDeletion', 'WaitForDeletionDate', 'PendingWatchIncomplete'],
  ])(
    '%s acts on breakage first, then on a key changed by someone else, goes on only when the watch is done, and restores otherwise',
    (name, onBreakage, onDone, otherwise) => {
      // Prepare
      const verdict = definition.States[name] as AslState;

      // Assess
      expect(verdict.Choices).toEqual([
        { Variable: '$.watch.value.broke', BooleanEquals: true, Next: onBreakage },
        { Variable: '$.watch.value.keyChange', IsPresent: true, Next: 'KeyChangedExternally' },
        { Variable: '$.watch.value.done', BooleanEquals: true, Next: onDone },
      ]);
      expect(verdict.Default).toBe(otherwise);
      expect(definition.States[otherwise]?.Next).toBe('Restore');
    },
  );

  it('hands a key changed by someone else to the restore with the error the check named, evidence kept', () => {
    // Prepare
    const changed = definition.States.KeyChangedExternally as AslState;

    // Assess
    expect(changed).toMatchObject({
      Type: 'Pass',
      Parameters: {
        'Error.$': '$.watch.value.keyChange.error',
        'Cause.$': '$.watch.value.keyChange.cause',
      },
      ResultPath: '$.error',
      Next: 'Restore',
    });
    expect((definition.States.FinalVerdict as AslState).Choices).toEqual([
      { Variable: '$.watch.value.resume', IsPresent: true, Next: 'FinalCheck' },
      { Variable: '$.watch.value.broke', BooleanEquals: true, Next: 'RollBack' },
      { Variable: '$.watch.value.keyChange', IsPresent: true, Next: 'KeyChangedExternally' },
    ]);
  });

  it('keeps the execution running until the deletion date, then looks at the key once more', () => {
    // Prepare
    const wait = definition.States.WaitForDeletionDate as AslState;
    const check = definition.States.CheckAtDeletionDate as AslState;
    const verdict = definition.States.DeletionDateVerdict as AslState;
    const payload = (check.Parameters as { Payload: Record<string, unknown> }).Payload;

    // Assess: the pending watch answers after its last check, minutes before the deletion date, with
    // the deletion date as its nextCheckAt; the fast path acts only while the execution runs.
    expect(wait).toMatchObject({ TimestampPath: '$.watch.value.nextCheckAt', Next: 'CheckAtDeletionDate' });
    expect(payload).toMatchObject({ phase: 'PENDING', atDeletion: true, 'deletion.$': '$.deletion.value' });
    expect(check.ResultPath).toBe('$.watch');
    expect(check.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Restore' }]);
    expect(verdict.Choices).toEqual([
      { Variable: '$.watch.value.resume', IsPresent: true, Next: 'CheckAtDeletionDate' },
      { Variable: '$.watch.value.broke', BooleanEquals: true, Next: 'CancelDeletion' },
      { Variable: '$.watch.value.keyChange', IsPresent: true, Next: 'KeyChangedExternally' },
      { Variable: '$.watch.value.evidenceCount', NumericGreaterThan: 0, Next: 'NotifyEvidenceTooLate' },
    ]);
    expect(verdict.Default).toBe('DeletionScheduled');
    // Failures found only on a key KMS already deleted are e-mailed, then the run ends as scheduled.
    expect(definition.States.NotifyEvidenceTooLate?.Next).toBe('DeletionScheduled');
    expect(definition.States.DeletionScheduled?.Parameters).toMatchObject({
      watch: { 'evidence.$': '$.watch.value.evidence', 'evidenceCount.$': '$.watch.value.evidenceCount' },
    });
  });

  it('hands ScheduleDeletion its own resume through the watch it reads, and nothing else of the state changes', () => {
    // Prepare
    const pass = definition.States.ContinueScheduleDeletion as AslState;
    const schedule = definition.States.ScheduleDeletion as AslState;
    const payload = (schedule.Parameters as { Payload: Record<string, unknown> }).Payload;

    // Assess: ScheduleDeletion reads `watch` (FinalCheck's answer); the merge adds its resume there.
    expect(pass).toMatchObject({
      Type: 'Pass',
      Parameters: { 'value.$': 'States.JsonMerge($.watch.value, $.deletion.value, false)' },
      ResultPath: '$.watch',
      Next: 'ScheduleDeletion',
    });
    expect(payload).toMatchObject({ 'watch.$': '$.watch.value' });
  });

  it('ends every outcome in a named state', () => {
    // Prepare
    const endings = Object.values(definition.States)
      .filter((s) => s.Type === 'Fail')
      .map((s) => s.Error);

    // Assess
    expect(new Set(endings)).toEqual(
      new Set(['REFUSED', 'REJECTED', 'APPROVAL_EXPIRED', 'ROLLED_BACK', 'ABORTED', 'DELETION_CANCELLED']),
    );
    expect(definition.States.DeletionScheduled?.Parameters).toMatchObject({ outcome: 'DELETION_SCHEDULED' });
  });
});

describe('Workflow definition after the fast path', () => {
  it('sends every restore step through a verdict that recognises the fast path’s outcome', () => {
    for (const name of RESTORE_STATES) {
      // Prepare
      const verdict = definition.States[definition.States[name]?.Next ?? ''];

      // Assess
      expect(verdict?.Type, name).toBe('Choice');
      expect(verdict?.Choices, name).toEqual([
        { Variable: '$.restore.value.fastPath.outcome', IsPresent: true, Next: 'TakeFastPathEvidence' },
      ]);
    }
    expect(definition.States.TakeFastPathEvidence).toMatchObject({
      Type: 'Pass',
      Parameters: { 'value.$': '$.restore.value.fastPath.watch' },
      ResultPath: '$.watch',
      Next: 'FastPathOutcome',
    });
  });

  it('ends ROLLED_BACK or DELETION_CANCELLED, e-mailing only when the fast path could not', () => {
    // Prepare
    const choice = definition.States.FastPathOutcome;
    const targets = (choice?.Choices ?? []).map((c) => c.Next);

    // Assess
    expect(choice?.Type).toBe('Choice');
    expect([...targets, choice?.Default]).toEqual([
      'RolledBack',
      'NotifyRolledBack',
      'DeletionCancelled',
      'NotifyDeletionCancelled',
    ]);
    expect(JSON.stringify(choice?.Choices?.[0])).toContain('"BooleanEquals":true');
    for (const name of ['Aborted', 'ScheduleDeletion', 'Done', 'NotifyAborted']) {
      expect(reachable(definition, 'TakeFastPathEvidence').has(name), name).toBe(false);
    }
  });
});

describe('Workflow notice of a restore that failed, run by aws-local-stepfunctions', () => {
  const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:GuardWorkflow:retire-1';
  const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  /** The synthesized states from `Restore` on: runs start where a restore after an error begins. */
  const fromRestore = {
    ...definition,
    StartAt: 'Restore',
    States: Object.fromEntries(
      [...reachable(definition, 'Restore')].map((name) => [name, definition.States[name]]),
    ),
  };
  /** What the run holds when the watch failed after the key was disabled. */
  const HELD = {
    input: { keyId: KEY_ARN },
    assessment: { value: { key: { keyArn: KEY_ARN } } },
    watch: { value: null },
    error: { Error: 'KeyChangedExternallyError', Cause: 'the key was changed by someone else' },
  };

  /** An error as the engine catches it: `name` becomes the Error, `message` the Cause (none when undefined). */
  function caughtError(name: string, cause: unknown): Error {
    const error = new Error();
    error.name = name;
    Object.defineProperty(error, 'message', { value: cause });
    return error;
  }

  /** Runs the restore with every attempt failing with `error`; returns what was published and how the run ended. */
  async function failRestore(error: Error): Promise<{ published: unknown[]; ended: unknown }> {
    const published: unknown[] = [];
    const machine = new StateMachine(fromRestore as ConstructorParameters<typeof StateMachine>[0], {
      validationOptions: { checkArn: false },
    });
    const execution = machine.run(HELD, {
      overrides: {
        taskResourceLocalHandlers: {
          Restore: async () => {
            throw error;
          },
          NotifyRestoreFailed: async (parameters) => {
            published.push(parameters);
            return { MessageId: 'message-1' };
          },
        },
        retryIntervalOverrides: { Restore: 0 },
      },
      context: { Execution: { Id: EXECUTION } },
    });
    const ended = await execution.result.then(
      () => null,
      (failure: Error) => failure.cause,
    );
    return { published, ended };
  }

  it.each([
    ['no cause', caughtError('States.Timeout', undefined), '{"Error":"States.Timeout"}'],
    [
      'a cause that is not text',
      caughtError('Lambda.Unknown', { errorType: 'Sandbox.Timedout' }),
      '{"Error":"Lambda.Unknown","Cause":{"errorType":"Sandbox.Timedout"}}',
    ],
    [
      'a cause in text',
      caughtError('KMSInternalException', 'KMS could not answer'),
      'KMSInternalException: KMS could not answer',
    ],
  ])(
    'e-mails what to do by hand when the restore fails with %s, and ends ABORTED',
    async (_case, error, named) => {
      // Act
      const { published, ended } = await failRestore(error);

      // Assess
      expect(published).toEqual([
        expect.objectContaining({
          Subject: 'ACTION NEEDED: kms-deletion-guard could not restore a KMS key',
          Message:
            `The execution ${EXECUTION} could not restore the KMS key ${KEY_ARN} after an error (${named}). ` +
            'The key may still be disabled or pending deletion. Check the key now: enable it (aws kms enable-key) ' +
            'or cancel its deletion (aws kms cancel-key-deletion) if it is still needed.',
          MessageAttributes: expect.objectContaining({
            kind: { DataType: 'String', StringValue: 'restore-failed' },
          }),
        }),
      ]);
      expect(ended).toMatchObject({ name: 'ABORTED', message: expect.stringMatching(/^RESTORE_FAILED: /) });
    },
  );
});

describe('Workflow refusal of a key used since the assessment, run by aws-local-stepfunctions', () => {
  const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:GuardWorkflow:retire-2';
  const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
  /** The synthesized states from `DisableKey` on. */
  const fromDisable = {
    ...definition,
    StartAt: 'DisableKey',
    States: Object.fromEntries(
      [...reachable(definition, 'DisableKey')].map((name) => [name, definition.States[name]]),
    ),
  };
  const MESSAGE =
    'USED_SINCE_ASSESSMENT: the key was used after the assessment (2026-01-31T00:00:00.000Z). ' +
    'GetKeyLastUsage now shows Decrypt at 2026-02-02T00:00:00.000Z; the assessment saw no use. Nothing was changed.';

  it('e-mails the refusal and ends REFUSED without a restore', async () => {
    // Prepare
    const published: unknown[] = [];
    const restored: unknown[] = [];
    const machine = new StateMachine(fromDisable as ConstructorParameters<typeof StateMachine>[0], {
      validationOptions: { checkArn: false },
    });
    // Lambda's error, as Step Functions puts it in the Cause of a failed invoke: JSON text.
    const error = new Error(
      JSON.stringify({ errorType: 'KeyUsedSinceAssessmentError', errorMessage: MESSAGE }),
    );
    error.name = 'KeyUsedSinceAssessmentError';

    // Act
    const execution = machine.run(
      {
        input: { keyId: KEY_ARN },
        assessment: { value: { key: { keyId: KEY_ID, keyArn: KEY_ARN } } },
        disableApproval: { by: 'approver', at: '2026-02-02T00:00:00.000Z' },
        watch: { value: null },
        error: null,
      },
      {
        overrides: {
          taskResourceLocalHandlers: {
            DisableKey: async () => {
              throw error;
            },
            Restore: async (parameters) => {
              restored.push(parameters);
              return {};
            },
            NotifyUsedSinceAssessment: async (parameters) => {
              published.push(parameters);
              return { MessageId: 'message-1' };
            },
          },
        },
        context: { Execution: { Id: EXECUTION } },
      },
    );
    const ended = await execution.result.then(
      () => null,
      (failure: Error) => failure.cause,
    );

    // Assess
    expect(restored).toEqual([]);
    expect(published).toEqual([
      expect.objectContaining({
        Subject: `Refused: key ${KEY_ID} was used since the assessment`,
        Message: expect.stringContaining(MESSAGE),
        MessageAttributes: expect.objectContaining({ kind: { DataType: 'String', StringValue: 'refused' } }),
      }),
    ]);
    expect(ended).toMatchObject({ name: 'REFUSED', message: MESSAGE });
  });
});

describe('Workflow inventory steps, run by aws-local-stepfunctions', () => {
  const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:GuardWorkflow:retire-3';
  const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
  const MESSAGE =
    'Key 1234abcd-12ab-34cd-56ef-1234567890ab encrypts 1 resource whose data becomes unreadable forever when the key is deleted';

  /** The synthesized states reachable from `from`, as a machine of their own. */
  function machineFrom(from: string): StateMachine {
    const sub = {
      ...definition,
      StartAt: from,
      States: Object.fromEntries(
        [...reachable(definition, from)].map((name) => [name, definition.States[name]]),
      ),
    };
    return new StateMachine(sub as ConstructorParameters<typeof StateMachine>[0], {
      validationOptions: { checkArn: false },
    });
  }

  it('waits for the inventory function as long as it may run, before each approval and the deletion', () => {
    // Assess
    expect(definition.States.TakeInventory).toMatchObject({ Type: 'Task', TimeoutSeconds: 960 });
    expect(definition.States.TakeInventoryBeforeDeletion).toMatchObject({
      Type: 'Task',
      TimeoutSeconds: 960,
    });
    expect(definition.States.IsRefused?.Default).toBe('TakeInventory');
    expect(definition.States.TakeInventory?.Next).toBe('InventoryVerdict');
    expect(definition.States.InventoryVerdict?.Default).toBe('RequestDisableApproval');
    expect(definition.States.RequestDeletionApproval?.Next).toBe('TakeInventoryBeforeDeletion');
    expect(definition.States.FinalInventoryVerdict?.Default).toBe('ScheduleDeletion');
    // Before the disable nothing was changed: an error ends the run unchanged.
    expect(definition.States.TakeInventory?.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'PrepareAbortedUnchanged' }),
    ]);
  });

  it('e-mails a refusal of the first inventory and ends REFUSED before any approval is asked', async () => {
    // Prepare
    const published: unknown[] = [];
    const approvals: unknown[] = [];
    const refusedAssessment = {
      verdict: 'REFUSED',
      refusal: { cause: 'PROTECTS_DATA', message: MESSAGE },
      causeText: `PROTECTS_DATA: ${MESSAGE}`,
      subject: `Refused (PROTECTS_DATA): KMS key ${KEY_ID}`,
      summaryText: `Refused (PROTECTS_DATA): nothing was changed.\n\n${MESSAGE}`,
      key: { keyId: KEY_ID, keyArn: KEY_ARN },
    };

    // Act
    const execution = machineFrom('TakeInventory').run(
      {
        assessment: { value: { verdict: 'ACCEPTED', key: { keyId: KEY_ID, keyArn: KEY_ARN } } },
        error: null,
      },
      {
        overrides: {
          taskResourceLocalHandlers: {
            TakeInventory: async () => ({ Payload: refusedAssessment }),
            NotifyRefused: async (parameters) => {
              published.push(parameters);
              return { MessageId: 'message-1' };
            },
            RequestDisableApproval: async (parameters) => {
              approvals.push(parameters);
              return {};
            },
          },
        },
        context: { Execution: { Id: EXECUTION } },
      },
    );
    const ended = await execution.result.then(
      () => null,
      (failure: Error) => failure.cause,
    );

    // Assess
    expect(approvals).toEqual([]);
    expect(published).toEqual([
      expect.objectContaining({
        Subject: `Refused (PROTECTS_DATA): KMS key ${KEY_ID}`,
        Message: expect.stringContaining(MESSAGE),
      }),
    ]);
    expect(ended).toMatchObject({ name: 'REFUSED', message: `PROTECTS_DATA: ${MESSAGE}` });
  });

  it('gives the key back and ends REFUSED with the cause when the inventory before the deletion refuses', async () => {
    // Prepare
    const restored: Record<string, unknown>[] = [];
    const scheduled: unknown[] = [];

    // Act
    const execution = machineFrom('TakeInventoryBeforeDeletion').run(
      {
        assessment: { value: { verdict: 'ACCEPTED', key: { keyId: KEY_ID, keyArn: KEY_ARN } } },
        disable: { value: { disabledAt: '2026-01-01T00:00:00.000Z', wasEnabled: true } },
        watch: { value: { evidence: [], evidenceCount: 0 } },
        deletionApproval: { by: 'approver', at: '2026-02-01T00:00:00.000Z' },
        error: null,
      },
      {
        overrides: {
          taskResourceLocalHandlers: {
            TakeInventoryBeforeDeletion: async () => ({
              Payload: {
                verdict: 'REFUSED',
                refusal: {
                  cause: 'INVENTORY_INCOMPLETE',
                  message: 'ec2 DescribeSnapshots: UnauthorizedOperation',
                },
                causeText: 'INVENTORY_INCOMPLETE: ec2 DescribeSnapshots: UnauthorizedOperation',
                inventory: {},
              },
            }),
            RestoreAfterInventory: async (parameters) => {
              restored.push(parameters as Record<string, unknown>);
              return {
                Payload: {
                  subject: 'kms-deletion-guard: REFUSED: key',
                  messageText: 'restored',
                  causeText:
                    'INVENTORY_INCOMPLETE: ec2 DescribeSnapshots: UnauthorizedOperation; EnableKey done',
                },
              };
            },
            NotifyInventoryRefused: async () => ({ MessageId: 'message-2' }),
            ScheduleDeletion: async (parameters) => {
              scheduled.push(parameters);
              return {};
            },
          },
        },
        context: { Execution: { Id: EXECUTION } },
      },
    );
    const ended = await execution.result.then(
      () => null,
      (failure: Error) => failure.cause,
    );

    // Assess
    expect(scheduled).toEqual([]);
    expect(restored).toEqual([
      expect.objectContaining({
        Payload: expect.objectContaining({
          mode: 'ABORT',
          outcome: 'REFUSED',
          error: { Error: 'INVENTORY_INCOMPLETE', Cause: 'ec2 DescribeSnapshots: UnauthorizedOperation' },
        }),
      }),
    ]);
    expect(ended).toMatchObject({
      name: 'REFUSED',
      message: expect.stringMatching(/^INVENTORY_INCOMPLETE: /),
    });
  });
});

describe('State machine resource', () => {
  it('is a Standard workflow that logs ALL events, without their data, and traces with X-Ray', () => {
    // The execution history keeps inputs, outputs and task parameters (an approval's token among them);
    // the log group, which more principals read, keeps only each event's type, state, error and cause.
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
  });
});
