import { App, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type CfnTemplate,
  DefinitionError,
  eventRulesOf,
  rateOf,
  type ScheduledRule,
  scheduledRulesOf,
  type WorkflowFunction,
  workflowFunctions,
} from '../../../lib/simulator/definition.js';
import type { TimelineEntry } from '../../../lib/simulator/engine.js';
import { type AsyncOutcome, ScheduledRules } from '../../../lib/simulator/scheduled-rules.js';

const ENV = { account: '111122223333', region: 'us-east-1' };
const MINUTE = 60_000;
const START = Date.parse('2026-03-01T00:00:00Z');

interface StackOptions {
  readonly reserved?: number;
  readonly retryAttempts?: number;
  readonly withPattern?: boolean;
  readonly enabled?: boolean;
  readonly input?: Record<string, unknown>;
}

/** A template with one handler function and a rule that runs it every five minutes. */
function synth(options: StackOptions = {}): CfnTemplate {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Rules');
  const fn = new lambda.Function(stack, 'Sweeper', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    environment: { KDG_HANDLER: 'sweeper' },
    timeout: Duration.minutes(5),
    ...(options.reserved !== undefined ? { reservedConcurrentExecutions: options.reserved } : {}),
    ...(options.retryAttempts !== undefined ? { retryAttempts: options.retryAttempts } : {}),
  });
  new events.Rule(stack, 'Every5', {
    schedule: events.Schedule.rate(Duration.minutes(5)),
    enabled: options.enabled ?? true,
    targets: [
      new targets.LambdaFunction(fn, {
        ...(options.input ? { event: events.RuleTargetInput.fromObject(options.input) } : {}),
      }),
    ],
  });
  if (options.withPattern) {
    new events.Rule(stack, 'OnKms', {
      eventPattern: { source: ['aws.kms'] },
      targets: [new targets.LambdaFunction(fn)],
    });
  }
  return app.synth().getStackByName('Rules').template as CfnTemplate;
}

function parse(options: StackOptions = {}): { functions: WorkflowFunction[]; rules: ScheduledRule[] } {
  const template = synth(options);
  const functions = workflowFunctions(template, ENV);
  return { functions, rules: scheduledRulesOf(template, functions, ENV) };
}

/** A runner that records each invocation and answers with the next scripted outcome. */
function scripted(outcomes: readonly Partial<AsyncOutcome>[] = []) {
  const calls: { at: number; event: unknown }[] = [];
  let now = START;
  const run = async (_handler: string, event: unknown): Promise<AsyncOutcome> => {
    calls.push({ at: now, event });
    return { result: { outcome: 'DONE' }, spentMs: 0, ...(outcomes[calls.length - 1] ?? {}) };
  };
  return { calls, run, setNow: (ms: number) => (now = ms) };
}

/** Runs the rules from START to `untilMs` the way the simulator does: from one due instant to the next. */
async function runUntil(
  rules: ScheduledRules,
  untilMs: number,
  setNow: (ms: number) => void,
): Promise<TimelineEntry[]> {
  const entries: TimelineEntry[] = [];
  for (let at = rules.nextDueAt(); at !== null && at <= untilMs; at = rules.nextDueAt()) {
    setNow(at);
    entries.push(...(await rules.runDue(at)));
  }
  return entries;
}

describe('rateOf', () => {
  it.each([
    ['rate(1 minute)', MINUTE],
    ['rate(5 minutes)', 5 * MINUTE],
    ['rate(1 hour)', 60 * MINUTE],
    ['rate(2 days)', 2 * 24 * 60 * MINUTE],
  ])('reads %s', (expression, ms) => {
    // Act / Assess
    expect(rateOf(expression)).toBe(ms);
  });

  it.each(['rate(1 minutes)', 'rate(5 minute)', 'rate(0 minutes)', 'rate(5 seconds)', 'cron(0 12 * * ? *)'])(
    'refuses %s (EventBridge refuses it, or the simulator does not run it)',
    (expression) => {
      // Act / Assess
      expect(() => rateOf(expression)).toThrow(DefinitionError);
    },
  );
});

describe('scheduledRulesOf', () => {
  it("reads a rule's rate, target and the target function's concurrency and asynchronous retries", () => {
    // Act
    const { functions, rules } = parse({ reserved: 1, retryAttempts: 0 });

    // Assess
    expect(rules).toEqual([
      expect.objectContaining({
        state: 'ENABLED',
        scheduleExpression: 'rate(5 minutes)',
        rateMs: 5 * MINUTE,
        handler: 'sweeper',
        input: null,
      }),
    ]);
    expect(rules[0]?.arn).toMatch(/^arn:aws:events:us-east-1:111122223333:rule\//);
    expect(functions[0]).toMatchObject({ reservedConcurrency: 1, asyncInvoke: { maximumRetryAttempts: 0 } });
  });

  it('a rule with only a schedule matches no event: it is not an event-pattern rule', () => {
    // Prepare
    const template = synth({ withPattern: true });
    const functions = workflowFunctions(template, ENV);

    // Act
    const patternRules = eventRulesOf(template, functions, ENV);

    // Assess
    expect(patternRules.map((r) => r.pattern)).toEqual([{ source: ['aws.kms'] }]);
  });
});

describe('ScheduledRules', () => {
  it("sends a Scheduled Event at every multiple of the rate from the scenario's start, in time order", async () => {
    // Prepare
    const { functions, rules } = parse();
    const runner = scripted();
    const scheduled = new ScheduledRules(rules, functions, runner.run, ENV.account, ENV.region, START + 1);

    // Act
    const entries = await runUntil(scheduled, START + 16 * MINUTE, runner.setNow);

    // Assess
    expect(runner.calls.map((c) => c.at - START)).toEqual([5, 10, 15].map((m) => m * MINUTE));
    expect(runner.calls[0]?.event).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ENV.account,
      region: ENV.region,
      time: '2026-03-01T00:05:00Z',
      resources: [rules[0]?.arn],
      detail: {},
    });
    expect(entries.map((e) => [e.state, e.handler, e.detail.outcome])).toEqual([
      ['ScheduledRule', 'sweeper', 'DONE'],
      ['ScheduledRule', 'sweeper', 'DONE'],
      ['ScheduledRule', 'sweeper', 'DONE'],
    ]);
  });

  it("sends the target's constant Input instead of the Scheduled Event", async () => {
    // Prepare
    const { functions, rules } = parse({ input: { job: 'sweep' } });
    const runner = scripted();
    const scheduled = new ScheduledRules(rules, functions, runner.run, ENV.account, ENV.region, START);

    // Act
    await runUntil(scheduled, START, runner.setNow);

    // Assess
    expect(runner.calls.map((c) => c.event)).toEqual([{ job: 'sweep' }]);
  });

  it('runs nothing for a disabled rule', () => {
    // Prepare
    const { functions, rules } = parse({ enabled: false });

    // Act
    const scheduled = new ScheduledRules(rules, functions, scripted().run, ENV.account, ENV.region, START);

    // Assess
    expect(scheduled.nextDueAt()).toBeNull();
  });

  it('retries a failed invocation twice, one and then two minutes after the failed attempt ended, then drops it', async () => {
    // Prepare: the event of 00:00 fails every time, its first attempt after 4 minutes of searching;
    // the events of the later ticks succeed.
    const { functions, rules } = parse();
    const failure = new Error('log group gone');
    failure.name = 'EventSourceUnavailableError';
    const calls: { at: number; time: unknown }[] = [];
    let now = START;
    const run = async (_handler: string, event: unknown): Promise<AsyncOutcome> => {
      const time = (event as { time?: unknown }).time;
      calls.push({ at: now, time });
      if (time !== '2026-03-01T00:00:00Z') return { result: { outcome: 'DONE' }, spentMs: 0 };
      return { error: failure, spentMs: calls.length === 1 ? 4 * MINUTE : 0 };
    };
    const scheduled = new ScheduledRules(rules, functions, run, ENV.account, ENV.region, START);

    // Act
    const entries = await runUntil(scheduled, START + 9 * MINUTE, (ms) => (now = ms));

    // Assess: retried at 00:05 (00:04 + 1 min) and 00:07 (00:05 + 2 min), beside the 00:05 tick.
    const failing = calls
      .filter((c) => c.time === '2026-03-01T00:00:00Z')
      .map((c) => (c.at - START) / MINUTE);
    expect(failing).toEqual([0, 5, 7]);
    expect(entries.filter((e) => e.detail.error !== undefined).map((e) => e.detail)).toEqual([
      expect.objectContaining({ error: 'EventSourceUnavailableError', cause: 'log group gone' }),
      expect.objectContaining({ lambdaRetry: 1, error: 'EventSourceUnavailableError' }),
      expect.objectContaining({
        lambdaRetry: 2,
        error: 'EventSourceUnavailableError',
        dropped: 'RetriesExhausted',
      }),
    ]);
    expect(entries.filter((e) => e.detail.outcome === 'DONE')).toHaveLength(1);
  });

  it("retries no more than the function's EventInvokeConfig allows", async () => {
    // Prepare
    const { functions, rules } = parse({ retryAttempts: 0 });
    const runner = scripted([{ error: new Error('boom') }]);
    const scheduled = new ScheduledRules(rules, functions, runner.run, ENV.account, ENV.region, START);

    // Act
    const entries = await runUntil(scheduled, START + 4 * MINUTE, runner.setNow);

    // Assess
    expect(runner.calls).toHaveLength(1);
    expect(entries[0]?.detail).toMatchObject({ error: 'Error', dropped: 'RetriesExhausted' });
  });

  it('holds an event back while the reserved concurrency is taken, trying again from one second on, doubling', async () => {
    // Prepare: the first run fails after its full 300 s; the tick at 5:00 finds the function free (the
    // run ended then), and the retry comes at 6:00. A run of 6 minutes from 10:00 keeps the 15:00
    // tick waiting until 16:00.
    const { functions, rules } = parse({ reserved: 1 });
    const runner = scripted([
      { error: new Error('timed out'), spentMs: 5 * MINUTE },
      { spentMs: 0 },
      { spentMs: 0 },
      { spentMs: 6 * MINUTE },
    ]);
    const scheduled = new ScheduledRules(rules, functions, runner.run, ENV.account, ENV.region, START);

    // Act
    const entries = await runUntil(scheduled, START + 20 * MINUTE, runner.setNow);

    // Assess: the 15:00 event is throttled at 15:00, :01, :03, :07, :15 and :31, runs at 16:03 (1 + 2 +
    // 4 + 8 + 16 + 32 s later), once the run that started at 10:00 ended at 16:00.
    expect(runner.calls.map((c) => (c.at - START) / 1000)).toEqual([0, 300, 360, 600, 963, 1200]);
    expect(entries.map((e) => e.detail.throttled)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      6,
      undefined,
    ]);
  });
});
