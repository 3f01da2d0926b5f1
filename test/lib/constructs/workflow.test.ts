import validator from 'asl-validator';
import { LINK_PARAGRAPH } from '../../../lambdas/domain/approval-page.js';
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
  ...['RestoreAfterRejection', 'RestoreAfterExpiry'],
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
      'DisableKey',
      'WatchForBreakage',
      'FinalCheck',
      'RequestDeletionApproval',
      'RequestDisableApproval',
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

  it('links each approval e-mail to the approval page with the execution and the token', () => {
    for (const [name, textPath] of [
      ['RequestDisableApproval', '$.assessment.value.summaryText'],
      ['RequestDeletionApproval', '$.watch.value.reportText'],
    ] as const) {
      // Prepare
      const parameters = definition.States[name]?.Parameters ?? {};
      const message = parameters['Message.$'] as string;

      // Assess: the page cuts the e-mail text at LINK_PARAGRAPH, so both must agree.
      expect(message.startsWith("States.Format('{}")).toBe(true);
      expect(message).toContain(LINK_PARAGRAPH);
      expect(message).toMatch(
        new RegExp(
          `\\?execution=\\{\\}&token=\\{\\}', ${textPath.replaceAll('.', '\\.').replace('$', '\\$')}, ` +
            "'https://[^']+\\.execute-api\\.us-east-1\\.amazonaws\\.com/approval/', " +
            '\\$\\$\\.Execution\\.Id, \\$\\$\\.Task\\.Token\\)$',
        ),
      );
      expect(parameters.MessageAttributes).toMatchObject({
        step: { StringValue: name === 'RequestDisableApproval' ? 'disable' : 'deletion' },
        taskToken: { 'StringValue.$': '$$.Task.Token' },
      });
    }
  });

  it('asks for approval with a task token and a timeout, and waits from computed timestamps', () => {
    for (const name of ['RequestDisableApproval', 'RequestDeletionApproval']) {
      const state = definition.States[name];
      expect(state?.Resource).toBe('arn:aws:states:::sns:publish.waitForTaskToken');
      expect(state?.TimeoutSeconds).toBe(7 * 24 * 3600);
    }
    const waits = Object.values(definition.States).filter((s) => s.Type === 'Wait');
    expect(waits.length).toBe(1);
    for (const wait of waits) {
      expect(wait.TimestampPath ?? wait.SecondsPath).toBeDefined();
    }
  });

  it('has no loop, so the transitions of an execution do not grow with the observation', () => {
    // Prepare: depth-first search for a cycle through Next, Default, Choices and Catch.
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycles: string[] = [];
    const visit = (name: string, path: readonly string[]) => {
      if (done.has(name)) return;
      if (visiting.has(name)) {
        cycles.push([...path, name].join(' -> '));
        return;
      }
      visiting.add(name);
      for (const next of successors(definition.States[name] as AslState)) visit(next, [...path, name]);
      visiting.delete(name);
      done.add(name);
    };

    // Act
    visit(definition.StartAt, []);

    // Assess
    expect(cycles).toEqual([]);
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
      expect(state.TimeoutSeconds).toBe(30 * 86_400 + 2 * checkInterval + lag + 86_400);
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
    ['PendingVerdict', 'CancelDeletion', 'DeletionScheduled', 'PendingWatchIncomplete'],
  ])(
    '%s acts on breakage first, goes on only when the watch is done, and restores otherwise',
    (name, onBreakage, onDone, otherwise) => {
      // Prepare
      const verdict = definition.States[name] as AslState;

      // Assess
      expect(verdict.Choices).toEqual([
        { Variable: '$.watch.value.broke', BooleanEquals: true, Next: onBreakage },
        { Variable: '$.watch.value.done', BooleanEquals: true, Next: onDone },
      ]);
      expect(verdict.Default).toBe(otherwise);
      expect(definition.States[otherwise]?.Next).toBe('Restore');
    },
  );

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

describe('State machine resource', () => {
  it('is a Standard workflow that logs ALL events and traces with X-Ray', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
  });
});
