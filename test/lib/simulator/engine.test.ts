import { VirtualClock } from '../../../lib/simulator/clock.js';
import {
  type AslDefinition,
  type CfnTemplate,
  DefinitionError,
  type SynthesizedWorkflow,
  workflowFromTemplate,
} from '../../../lib/simulator/definition.js';
import type { AwsError } from '../../../lib/simulator/emulator/errors.js';
import { SfnService } from '../../../lib/simulator/emulator/sns-sfn.js';
import {
  DEFAULT_TASK_TOKEN,
  type EngineHooks,
  prepareDefinition,
  runWorkflow,
  TaskError,
  type TimelineEntry,
} from '../../../lib/simulator/engine.js';
import type { ApprovalAnswer } from '../../../lib/simulator/scenario.js';
import { synthTinyTemplate } from './tiny-stack.js';

const START = new Date('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const ENV = { account: '111122223333', region: 'us-east-1' };

interface Harness {
  hooks: EngineHooks;
  advances: string[];
  handlerTimes: string[];
}

function harness(
  clock: VirtualClock,
  answer: ApprovalAnswer,
  handler: (payload: unknown, attempt: number) => unknown = () => ({
    nextCheckAt: new Date(START.getTime() + 5 * DAY + 3_600_000).toISOString(),
  }),
): Harness {
  const advances: string[] = [];
  const handlerTimes: string[] = [];
  let attempt = 0;
  return {
    advances,
    handlerTimes,
    hooks: {
      clock,
      advanceTo: (target) => {
        advances.push(target.toISOString());
        clock.advanceTo(target);
      },
      invokeFunction: async (_name, payload) => {
        handlerTimes.push(new Date().toISOString());
        attempt += 1;
        return handler(payload, attempt);
      },
      approvalAnswer: () => answer,
    },
  };
}

describe('runWorkflow on a synthesized CDK workflow', () => {
  let template: CfnTemplate;
  let workflow: SynthesizedWorkflow;
  let clock: VirtualClock | undefined;

  beforeAll(() => {
    template = synthTinyTemplate();
    workflow = workflowFromTemplate(template, ENV);
  });

  beforeEach(() => {
    clock = VirtualClock.install(START);
  });

  afterEach(() => {
    clock?.uninstall();
    clock = undefined;
  });

  it('resolves the template tokens the engine needs', () => {
    // Assess
    const assess = workflow.definition.States.AssessKey as Record<string, unknown>;
    const [fn] = workflow.functions;
    expect(assess.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect((assess.Parameters as Record<string, unknown>).FunctionName).toBe(fn?.arn);
    expect(fn?.handler).toBe('echo');
    expect(JSON.stringify(workflow.definition)).not.toMatch(/Fn::|"Ref"/);
  });

  it('advances the virtual clock exactly by each Wait', async () => {
    // Prepare
    const h = harness(clock as VirtualClock, 'approve');

    // Act
    const run = await runWorkflow(workflow, { waitSeconds: 3 * 86_400 }, h.hooks);

    // Assess
    expect(h.advances).toEqual(['2026-01-04T00:00:00.000Z', '2026-01-06T01:00:00.000Z']);
    const at = Object.fromEntries(run.timeline.map((e) => [e.state, e.at]));
    expect(at).toMatchObject({
      AssessKey: '2026-01-01T00:00:00.000Z',
      WaitSeconds: '2026-01-01T00:00:00.000Z',
      WaitUntil: '2026-01-04T00:00:00.000Z',
      RequestDisableApproval: '2026-01-06T01:00:00.000Z',
      Done: '2026-01-06T01:00:00.000Z',
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ outcome: 'DELETION_SCHEDULED', approvedAt: '2026-01-06T01:00:00.000Z' });
    expect(run.stats).toEqual({ stateTransitions: 7, lambdaInvocations: 1 });
  });

  it('gives handlers the virtual time and the execution context', async () => {
    // Prepare
    let payload: unknown;
    const h = harness(clock as VirtualClock, 'approve', (p) => {
      payload = p;
      return { nextCheckAt: START.toISOString() };
    });

    // Act
    const run = await runWorkflow(workflow, { waitSeconds: 0 }, h.hooks, { executionName: 'exec-1' });

    // Assess
    expect(h.handlerTimes).toEqual([START.toISOString()]);
    expect(run.executionArn).toBe(
      `arn:aws:states:us-east-1:111122223333:execution:${workflow.stateMachineLogicalId}:exec-1`,
    );
    expect(payload).toEqual({ input: { waitSeconds: 0 }, executionArn: run.executionArn });
  });

  it('records approval requests and plain notifications with their kind and subject', async () => {
    // Prepare
    const h = harness(clock as VirtualClock, 'approve');

    // Act
    const run = await runWorkflow(workflow, { waitSeconds: 60 }, h.hooks);

    // Assess
    expect(run.notifications.map(({ kind, subject, step, at }) => ({ kind, subject, step, at }))).toEqual([
      {
        kind: 'approval-request',
        subject: 'Approve disabling the key?',
        step: 'disable',
        at: '2026-01-06T01:00:00.000Z',
      },
      { kind: 'done', subject: 'Done', step: undefined, at: '2026-01-06T01:00:00.000Z' },
    ]);
    expect(run.notifications[0]?.message).toEqual({ token: 'kms-deletion-guard-simulated-task-token' });
  });

  it('answers timeout by advancing the task timeout in virtual time and failing with States.Timeout', async () => {
    // Prepare
    const h = harness(clock as VirtualClock, 'timeout');
    const began = performance.now();

    // Act
    const run = await runWorkflow(workflow, { waitSeconds: 0 }, h.hooks);

    // Assess
    expect(performance.now() - began).toBeLessThan(1000);
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('APPROVAL_EXPIRED');
    expect(run.cause).toBe('APPROVAL_EXPIRED: nobody answered');
    // The 30-day timeout counts from the request (2026-01-06T01:00Z), beyond Node's 24.8-day timer limit.
    expect(clock?.now().toISOString()).toBe('2026-02-05T01:00:00.000Z');
    expect(run.timeline.at(-1)).toMatchObject({ state: 'Expired', at: '2026-02-05T01:00:00.000Z' });
  });

  it('answers reject with ApprovalRejected, which the Catch routes', async () => {
    // Prepare
    const h = harness(clock as VirtualClock, 'reject');

    // Act
    const run = await runWorkflow(workflow, { waitSeconds: 0 }, h.hooks);

    // Assess
    expect(run.error).toBe('REJECTED');
    expect(run.timeline.find((e) => e.state === 'RequestDisableApproval')?.detail).toMatchObject({
      step: 'disable',
      answer: 'reject',
      error: 'ApprovalRejected',
    });
  });

  it('retries by error name and advances virtual time by the retry interval', async () => {
    // Prepare
    const h = harness(clock as VirtualClock, 'approve', (_p, attempt) => {
      if (attempt <= 2) {
        throw new TaskError('ThrottlingException', 'Rate exceeded');
      }
      return { nextCheckAt: START.toISOString() };
    });

    // Act
    const run = await runWorkflow(workflow, { waitSeconds: 0 }, h.hooks);

    // Assess: interval 10 s, backoff 3 -> 10 s then 30 s.
    expect(run.stats.lambdaInvocations).toBe(3);
    expect(h.handlerTimes).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:40.000Z',
    ]);
    expect(run.timeline.find((e) => e.state === 'AssessKey')?.detail.retries).toBe(2);
    expect(run.status).toBe('SUCCEEDED');
  });

  it('gives a handler error the Lambda error shape and lets Catch match it', async () => {
    // Prepare
    const h = harness(clock as VirtualClock, 'approve', () => {
      const error = new Error('the key changed');
      error.name = 'KeyChangedExternallyError';
      throw error;
    });

    // Act
    const run = await runWorkflow(workflow, { waitSeconds: 0 }, h.hooks);

    // Assess
    expect(run.error).toBe('ABORTED');
    const caught = (run.finalData as { error: { Error: string; Cause: string } }).error;
    expect(caught.Error).toBe('KeyChangedExternallyError');
    expect(JSON.parse(caught.Cause)).toMatchObject({
      errorType: 'KeyChangedExternallyError',
      errorMessage: 'the key changed',
    });
  });
});

describe('prepareDefinition', () => {
  const base = (states: Record<string, unknown>, extra: Record<string, unknown> = {}): AslDefinition =>
    ({ StartAt: Object.keys(states)[0], States: states, ...extra }) as AslDefinition;

  it('rewrites a Wait into a Task with the same transitions and paths', () => {
    // Act
    const prepared = prepareDefinition(
      base({
        W: { Type: 'Wait', TimestampPath: '$.at', InputPath: '$.x', OutputPath: '$.y', Next: 'E' },
        E: { Type: 'Succeed' },
      }),
    );

    // Assess
    expect(prepared.definition.States.W).toEqual({
      Type: 'Task',
      Resource: 'arn:aws:states:::kms-deletion-guard:virtual-wait',
      Parameters: { 'input.$': '$', 'timestamp.$': '$.at' },
      InputPath: '$.x',
      OutputPath: '$.y',
      TimeoutSeconds: 2_147_483,
      Next: 'E',
    });
  });

  it("replaces task timeouts in the engine copy by the longest real timer (they are kept in virtual time) and drops the execution's", () => {
    // Act
    const prepared = prepareDefinition(
      base(
        {
          A: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sns:publish.waitForTaskToken',
            TimeoutSeconds: 30 * 86_400,
            HeartbeatSeconds: 3600,
            End: true,
          },
        },
        { TimeoutSeconds: 100 },
      ),
    );

    // Assess
    // The engine times every Task with a real timer (60 s when none is set): a wait that runs the
    // world for days may take longer than that in real time, so it gets the longest a timer takes.
    expect(prepared.definition.States.A).toHaveProperty('TimeoutSeconds', 2_147_483);
    expect(prepared.definition.States.A).not.toHaveProperty('HeartbeatSeconds');
    expect(prepared.definition).not.toHaveProperty('TimeoutSeconds');
    expect(prepared.executionTimeoutSeconds).toBe(100);
    expect(prepared.tasks.get('A')).toMatchObject({ timeoutSeconds: 30 * 86_400, heartbeatSeconds: 3600 });
  });

  it('refuses a task the simulator cannot run locally, so nothing calls real AWS', () => {
    // Act / Assess
    expect(() =>
      prepareDefinition(
        base({ A: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:kms:disableKey', End: true } }),
      ),
    ).toThrow(DefinitionError);
  });
});

describe('runWorkflow execution timeout', () => {
  it('times the execution out in virtual time at its TimeoutSeconds', async () => {
    // Prepare
    const clock = VirtualClock.install(START);
    const workflow: SynthesizedWorkflow = {
      definition: {
        StartAt: 'W',
        TimeoutSeconds: 3600,
        States: { W: { Type: 'Wait', Seconds: 7200, Next: 'E' }, E: { Type: 'Succeed' } },
      },
      stateMachineLogicalId: 'M',
      stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:M',
      functions: [],
      env: ENV,
    };

    try {
      // Act
      const run = await runWorkflow(workflow, {}, harness(clock, 'approve').hooks);

      // Assess
      expect(run.status).toBe('TIMED_OUT');
      expect(clock.now().toISOString()).toBe('2026-01-01T01:00:00.000Z');
    } finally {
      clock.uninstall();
    }
  });
});

describe('runWorkflow with lambda:invoke.waitForTaskToken', () => {
  const HOUR = 3_600_000;
  const CHECK_ARN = 'arn:aws:lambda:us-east-1:111122223333:function:CheckFunction';
  const watchState = (name: string, next: string) => ({
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: CHECK_ARN,
      Payload: { 'taskToken.$': '$$.Task.Token', 'mode.$': '$.mode', trigger: 'start' },
    },
    ResultSelector: { 'value.$': '$' },
    ResultPath: '$.watch',
    HeartbeatSeconds: 3 * 3600,
    TimeoutSeconds: 10 * 86_400,
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Caught' }],
    Next: next,
    _name: name,
  });
  const strip = ({ _name, ...state }: Record<string, unknown>) => state;
  const workflowOf = (states: Record<string, Record<string, unknown>>): SynthesizedWorkflow => ({
    definition: { StartAt: Object.keys(states)[0] as string, States: states } as AslDefinition,
    stateMachineLogicalId: 'M',
    stateMachineArn: 'arn:aws:states:us-east-1:111122223333:stateMachine:M',
    functions: [{ logicalId: 'CheckFunction', arn: CHECK_ARN, handler: 'check' }],
    env: ENV,
  });
  const oneWatch = workflowOf({
    Watch: strip(watchState('Watch', 'Done')),
    Done: { Type: 'Succeed' },
    Caught: { Type: 'Succeed' },
  });

  type Mode = 'answer' | 'fail' | 'silent' | 'beat-forever' | 'throw';

  /** A small world: timed events (the check's schedules) and the emulated Step Functions' tokens. */
  class World {
    readonly events: { at: number; run: () => void }[] = [];
    readonly tokens: string[] = [];
    readonly arns: string[] = [];
    readonly refusals: string[] = [];
    readonly sfn: SfnService;

    constructor(private readonly clock: VirtualClock) {
      this.sfn = new SfnService(() => clock.now());
    }

    at(ms: number, run: () => void): void {
      this.events.push({ at: ms, run });
      this.events.sort((a, b) => a.at - b.at);
    }

    send(operation: string, request: Record<string, unknown>): void {
      try {
        this.sfn.handle(operation, request);
      } catch (error) {
        this.refusals.push((error as AwsError).type);
      }
    }

    /** The check chain: one scheduled check every 2 h, each heartbeating, the third one answering. */
    start(mode: Mode, taskToken: string): void {
      if (mode === 'throw') {
        const error = new Error('cannot schedule');
        error.name = 'ScheduleSettingsError';
        throw error;
      }
      const now = this.clock.nowMs();
      for (let check = 1; check <= (mode === 'beat-forever' ? 200 : 3); check += 1) {
        this.at(now + check * 2 * HOUR, () => {
          if (mode === 'silent') return;
          this.send('SendTaskHeartbeat', { taskToken });
          if (check === 2 && mode === 'fail') {
            this.send('SendTaskFailure', {
              taskToken,
              error: 'KeyChangedExternallyError',
              cause: 'tags changed',
            });
          }
          if (check === 3 && mode === 'answer') {
            this.send('SendTaskSuccess', {
              taskToken,
              output: JSON.stringify({ broke: false, done: true, checks: 3 }),
            });
          }
        });
      }
    }

    hooks(): EngineHooks {
      return {
        clock: this.clock,
        advanceTo: (target) => {
          const entries: TimelineEntry[] = [];
          while (this.events[0] && this.events[0].at <= target.getTime()) {
            const event = this.events.shift() as { at: number; run: () => void };
            this.clock.advanceTo(event.at);
            event.run();
            entries.push({
              at: this.clock.now().toISOString(),
              state: 'CheckForBreakage',
              type: 'ScheduledInvoke',
              handler: 'check',
              detail: {},
            });
          }
          this.clock.advanceTo(target);
          return entries;
        },
        nextEventAt: () => this.events[0]?.at ?? null,
        taskTokens: this.sfn,
        invokeFunction: async (_handler, payload, functionArn) => {
          const { taskToken, mode } = payload as { taskToken: string; mode: Mode };
          this.tokens.push(taskToken);
          this.arns.push(functionArn);
          this.start(mode, taskToken);
          return { outcome: 'SCHEDULED' };
        },
        approvalAnswer: () => 'approve',
      };
    }
  }

  let clock: VirtualClock;
  let world: World;

  beforeEach(() => {
    clock = VirtualClock.install(START);
    world = new World(clock);
  });

  afterEach(() => {
    clock.uninstall();
  });

  it('drives virtual time through the world until the token is answered and takes the output as the result', async () => {
    // Act
    const run = await runWorkflow(oneWatch, { mode: 'answer' }, world.hooks());

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ mode: 'answer', watch: { value: { broke: false, done: true, checks: 3 } } });
    expect(clock.now().toISOString()).toBe('2026-01-01T06:00:00.000Z');
    expect(world.arns).toEqual([CHECK_ARN]);
    expect(world.tokens[0]).not.toBe(DEFAULT_TASK_TOKEN);
    expect(run.timeline.map((e) => e.state)).toEqual([
      'Watch',
      'CheckForBreakage',
      'CheckForBreakage',
      'CheckForBreakage',
      'Done',
    ]);
    expect(run.timeline[0]?.detail).toEqual({ answered: 'success' });
    // Two states ran; the start and the three scheduled checks are Lambda invocations.
    expect(run.stats).toEqual({ stateTransitions: 2, lambdaInvocations: 4 });
  });

  it('fails the task with the Error and Cause of SendTaskFailure, which the Catch sees', async () => {
    // Act
    const run = await runWorkflow(oneWatch, { mode: 'fail' }, world.hooks());

    // Assess
    expect(run.timeline.map((e) => e.state).at(-1)).toBe('Caught');
    expect(run.output).toMatchObject({
      error: { Error: 'KeyChangedExternallyError', Cause: 'tags changed' },
    });
    expect(clock.now().toISOString()).toBe('2026-01-01T04:00:00.000Z');
    // The third check finds its token closed, as Step Functions answers a finished task.
    expect(world.events).toHaveLength(1);
  });

  it('times the task out with States.HeartbeatTimeout when the chain stops heartbeating', async () => {
    // Act
    const run = await runWorkflow(oneWatch, { mode: 'silent' }, world.hooks());

    // Assess: heartbeat 3 h after the start, the checks at 2 h did not beat.
    expect(run.output).toMatchObject({ error: { Error: 'States.HeartbeatTimeout' } });
    expect(clock.now().toISOString()).toBe('2026-01-01T03:00:00.000Z');
    expect(run.timeline[0]?.detail.error).toBe('States.HeartbeatTimeout');
  });

  it('times the task out with States.Timeout at TimeoutSeconds even while heartbeats keep coming', async () => {
    // Act
    const run = await runWorkflow(oneWatch, { mode: 'beat-forever' }, world.hooks());

    // Assess
    expect(run.output).toMatchObject({ error: { Error: 'States.Timeout' } });
    expect(clock.now().toISOString()).toBe('2026-01-11T00:00:00.000Z');
  });

  it('fails the task with the handler error when the start invocation throws', async () => {
    // Act
    const run = await runWorkflow(oneWatch, { mode: 'throw' }, world.hooks());

    // Assess
    expect(run.output).toMatchObject({ error: { Error: 'ScheduleSettingsError' } });
    expect(clock.now().toISOString()).toBe(START.toISOString());
  });

  it('gives every task entry its own token and refuses an answer to a finished one', async () => {
    // Prepare
    const twoWatches = workflowOf({
      First: strip(watchState('First', 'Second')),
      Second: { ...strip(watchState('Second', 'Done')), ResultPath: '$.second' },
      Done: { Type: 'Succeed' },
      Caught: { Type: 'Succeed' },
    });

    // Act
    const run = await runWorkflow(twoWatches, { mode: 'answer' }, world.hooks());
    const [first, second] = world.tokens;
    world.send('SendTaskSuccess', { taskToken: first, output: '{}' });
    world.send('SendTaskHeartbeat', { taskToken: 'never-issued' });

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(first).not.toBe(second);
    expect(world.refusals).toEqual(['TaskTimedOut', 'TaskDoesNotExist']);
  });

  it('refuses a token task when nothing can answer a token', async () => {
    // Prepare
    const { taskTokens: _none, ...hooks } = world.hooks();

    // Act
    const run = await runWorkflow(oneWatch, { mode: 'answer' }, hooks);

    // Assess
    expect(run.output).toMatchObject({ error: { Error: 'States.Runtime' } });
  });
});
