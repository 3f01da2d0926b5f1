/**
 * One simulation end to end: the synthesized workflow, the real handlers and real SDK clients, an
 * emulated account behind the emulator server, and virtual time. Deterministic, no real sleeps.
 */
import './polyfill.js';
import { KeyDeletionGuardConfigError, resolveGuardConfig } from '../constructs/config.js';
import { VirtualClock } from './clock.js';
import {
  logGroupNameOf,
  type SynthesizedWorkflow,
  synthesizeWorkflow,
  workflowPrincipalArnsOf,
} from './definition.js';
import { type EmittedRecord, EmulatedAccount } from './emulator/account.js';
import { type EmulatorServer, startEmulatorServer } from './emulator/server.js';
import type { PublishedMessage } from './emulator/sns-sfn.js';
import {
  type EngineRun,
  executionArnOf,
  invokeHandler,
  type Notification,
  runWorkflow,
  TaskError,
  type TimelineEntry,
} from './engine.js';
import { type BusDelivery, EmulatedEventBridge } from './eventbridge.js';
import {
  type ApplicationCall,
  buildResult,
  type FinalKeyState,
  type KeyReport,
  type SimulationReport,
} from './result.js';
import {
  type CallInstance,
  CallSchedule,
  parseScenario,
  type Scenario,
  ScenarioError,
  type ScenarioFault,
} from './scenario.js';

export interface SimulateOptions {
  /** Let the handlers log (Powertools); effective only before the first simulation of the process. */
  readonly verbose?: boolean;
  readonly executionName?: string;
  /**
   * Called with the emulated account once the run ended, while virtual time still holds: tests read
   * the key's tags and the CloudTrail records there (the result carries neither).
   */
  readonly inspect?: (account: EmulatedAccount) => void;
}

const DAY_MS = 86_400_000;
const DEFAULT_LOG_GROUP = 'aws-cloudtrail-logs';
const BACKGROUND_SEED = 20_260_101;
const FAR_PAST = new Date(-8.64e15);
const FAR_FUTURE = new Date(8.64e15);
const SIMULATED_SERVICES = new Set<ScenarioFault['service']>(['kms', 'logs', 'sns', 'cloudtrail']);

let environmentReady = false;

/**
 * Points every AWS SDK client of this process at the emulator, with dummy credentials, before any
 * handler module is imported (handlers create their clients once and keep them). The global
 * `AWS_ENDPOINT_URL` catches any other service, so nothing can reach a real AWS endpoint.
 */
function prepareEnvironment(server: EmulatorServer, verbose: boolean): void {
  if (environmentReady) {
    if (process.env.AWS_ENDPOINT_URL_KMS !== server.url) {
      throw new Error(
        'The emulator server was restarted: the handlers keep SDK clients for the old address. Simulate in a fresh process.',
      );
    }
    return;
  }
  const env = process.env;
  env.AWS_ENDPOINT_URL = server.url;
  env.AWS_ENDPOINT_URL_KMS = server.url;
  env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = server.url;
  env.AWS_ENDPOINT_URL_CLOUDTRAIL = server.url;
  env.AWS_ENDPOINT_URL_SNS = server.url;
  env.AWS_ENDPOINT_URL_SFN = server.url;
  // One actor runs at a time in virtual time: the fast path's claim needs no settle wait here.
  env.KDG_CLAIM_SETTLE_MS = '0';
  env.AWS_ACCESS_KEY_ID = 'AKIASIMULATOR0000000';
  env.AWS_SECRET_ACCESS_KEY = 'simulator-secret-access-key';
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  env.POWERTOOLS_LOG_LEVEL = verbose ? 'DEBUG' : 'SILENT';
  env.POWERTOOLS_DEV = 'true';
  // The warning is about future SDK releases, not the simulation; it would interleave with the timeline.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  environmentReady = true;
}

/** The stack configuration of a scenario: DESIGN §3 defaults, the scenario's overrides on top. */
export function stackConfigOf(scenario: Scenario): Record<string, unknown> {
  const config: Record<string, unknown> = { ...scenario.config };
  if (config.cloudTrailLogGroupName === undefined && config.createTrail !== true) {
    config.cloudTrailLogGroupName = DEFAULT_LOG_GROUP;
  }
  return config;
}

async function workflowFor(scenario: Scenario): Promise<SynthesizedWorkflow> {
  const config = stackConfigOf(scenario);
  try {
    return await synthesizeWorkflow(config, { account: scenario.account, region: scenario.region });
  } catch (error) {
    if (error instanceof KeyDeletionGuardConfigError) {
      throw new ScenarioError(`config: ${error.message}`);
    }
    throw error;
  }
}

/** How far past start the workflow can run: the span background noise must cover. */
function horizonDays(scenario: Scenario): number {
  let config: ReturnType<typeof resolveGuardConfig>;
  try {
    config = resolveGuardConfig(stackConfigOf(scenario));
  } catch {
    return 120;
  }
  const input = (
    typeof scenario.input === 'object' && scenario.input !== null ? scenario.input : {}
  ) as Record<string, unknown>;
  const observation = Math.max(config.observationDays, Number(input.observationDays) || 0);
  const pending = Math.max(config.pendingWindowInDays, Number(input.pendingWindowInDays) || 0);
  return observation + pending + 2 * config.approvalTimeoutDays + 2;
}

function buildAccount(scenario: Scenario, logGroupName: string): EmulatedAccount {
  const trail = scenario.cloudTrail;
  const account = new EmulatedAccount({
    account: scenario.account,
    region: scenario.region,
    workflowPrincipalArn: scenario.workflowPrincipal,
    filterScanPageSize: trail.filterScanPageSize ?? undefined,
    cloudTrail: {
      deliveryLagMs: trail.deliveryLagMs,
      retentionDays: trail.retentionDays,
      logGroupName,
      trail: {
        readWriteType: trail.readWriteType,
        excludeKmsEvents: trail.excludeKmsEvents,
        trailChangeAt: trail.trailChangeAt ?? undefined,
        stopLoggingAt: trail.stopLoggingAt ?? undefined,
      },
    },
  });
  for (const key of scenario.keys) {
    account.addKey({
      keyId: key.keyId,
      region: key.region,
      createdAt: key.createdAt,
      trackingStartDate: key.trackingStartDate,
      lastUsage: key.lastUsage,
      state: key.state,
      manager: key.manager,
      aliases: key.aliases,
      tags: key.tags,
      keySpec: key.keySpec,
      keyUsage: key.keyUsage,
      description: key.description,
      multiRegion: key.multiRegion ?? undefined,
    });
  }
  for (const [i, fault] of scenario.faults.entries()) {
    if (!SIMULATED_SERVICES.has(fault.service)) {
      throw new ScenarioError(
        `faults[${i}].service: '${fault.service}' faults are not simulated (kms, logs, cloudtrail, sns are)`,
      );
    }
    if (fault.service === 'kms' || fault.service === 'logs' || fault.service === 'cloudtrail') {
      account.addFault({
        service: fault.service,
        operation: fault.operation,
        error: fault.error,
        from: fault.from ?? FAR_PAST,
        until: fault.until ?? FAR_FUTURE,
        count: fault.count ?? undefined,
      });
    }
  }
  if (trail.background > 0) {
    const from = new Date(scenario.start.getTime() - trail.retentionDays * DAY_MS);
    const to = new Date(scenario.start.getTime() + horizonDays(scenario) * DAY_MS);
    account.addBackgroundRecords(trail.background, from, to, BACKGROUND_SEED);
  }
  return account;
}

/** SNS faults hit the workflow's publish tasks, which the engine runs locally. */
class SnsFaults {
  private readonly remaining: number[];

  constructor(private readonly faults: readonly ScenarioFault[]) {
    this.remaining = faults.map((f) => f.count ?? Number.POSITIVE_INFINITY);
  }

  take(operation: string, now: Date): string | null {
    for (const [i, fault] of this.faults.entries()) {
      const active =
        fault.service === 'sns' &&
        (fault.operation === '*' || fault.operation === operation) &&
        (this.remaining[i] ?? 0) > 0 &&
        (!fault.from || now >= fault.from) &&
        (!fault.until || now < fault.until);
      if (active) {
        this.remaining[i] = (this.remaining[i] ?? 0) - 1;
        return fault.error;
      }
    }
    return null;
  }
}

function deliver(account: EmulatedAccount, instance: CallInstance, history: boolean): ApplicationCall {
  const { call } = instance;
  const answer = account.appCall({
    keyId: call.keyId,
    operation: call.operation,
    principalArn: call.principal,
    account: call.account ?? undefined,
    deliveryLagMs: call.deliveryLagMs ?? undefined,
    ...(history ? { at: instance.at } : {}),
  });
  return {
    at: instance.at.toISOString(),
    keyId: call.keyId,
    operation: call.operation,
    principal: call.principal,
    ok: answer.ok,
    ...(answer.errorCode ? { errorCode: answer.errorCode } : {}),
  };
}

function subjectKeyId(scenario: Scenario): string | null {
  const input = scenario.input;
  if (
    typeof input === 'object' &&
    input !== null &&
    typeof (input as { keyId?: unknown }).keyId === 'string'
  ) {
    return (input as { keyId: string }).keyId;
  }
  return scenario.keys.length === 1 ? (scenario.keys[0]?.keyId ?? null) : null;
}

/** First instant, after the workflow disabled the key, that it was re-enabled or its deletion cancelled. */
function restoredAtOf(records: readonly EmittedRecord[], keyArn: string): Date | null {
  const onKey = (e: EmittedRecord) => e.record.resources?.some((r) => r.ARN === keyArn) === true;
  const succeeded = (e: EmittedRecord) => e.record.errorCode === undefined;
  const disabled = records.find(
    (e) => e.workflow && e.record.eventName === 'DisableKey' && succeeded(e) && onKey(e),
  );
  if (!disabled) {
    return null;
  }
  const restored = records.find(
    (e) =>
      e.at >= disabled.at &&
      e !== disabled &&
      (e.record.eventName === 'EnableKey' || e.record.eventName === 'CancelKeyDeletion') &&
      succeeded(e) &&
      onKey(e),
  );
  return restored ? new Date(restored.at) : null;
}

function keyReport(scenario: Scenario, account: EmulatedAccount): KeyReport {
  const requested = subjectKeyId(scenario);
  const snapshot = requested === null ? undefined : account.inspectKey(requested);
  if (!snapshot) {
    return { keyId: requested, finalState: null, deletionDate: null, restoredAt: null };
  }
  return {
    keyId: snapshot.keyId,
    finalState: snapshot.state as FinalKeyState,
    deletionDate: snapshot.deletionDate,
    restoredAt: restoredAtOf(account.records(), snapshot.arn),
  };
}

/**
 * The settings of the handlers EventBridge rules invoke (the fast path reads the topic, the state
 * machine and the workflow's principals from its environment), as the template sets them. The
 * emulated account acts as the scenario's workflow principal for every call over HTTP, so that
 * principal is the workflow's own too.
 */
function configureEventTargets(workflow: SynthesizedWorkflow, scenario: Scenario): void {
  const targets = new Set((workflow.eventRules ?? []).map((rule) => rule.handler));
  for (const fn of workflow.functions) {
    if (!targets.has(fn.handler)) continue;
    for (const [name, value] of Object.entries(fn.environment ?? {})) {
      if (name.startsWith('KDG_') && name !== 'KDG_HANDLER') {
        process.env[name] = value;
      }
    }
  }
  if (targets.size > 0) {
    process.env.KDG_WORKFLOW_PRINCIPALS = [process.env.KDG_WORKFLOW_PRINCIPALS, scenario.workflowPrincipal]
      .filter((arn) => arn)
      .join(',');
  }
}

interface TargetReport {
  readonly keys?: readonly { readonly keyArn: string; readonly action: string; readonly reason: string }[];
}

/**
 * One EventBridge delivery: the real handler, as Lambda would invoke it asynchronously. A handler
 * error is kept in the timeline (Lambda would retry, then dead-letter it; the polling watch stays
 * the guarantee). Returns a timeline entry for deliveries that changed a key or failed.
 */
async function invokeTarget(delivery: BusDelivery, scenario: Scenario): Promise<TimelineEntry | null> {
  const detail = delivery.event.detail as { eventName?: string; errorCode?: string } | undefined;
  const base = {
    at: new Date().toISOString(),
    state: 'FastPath',
    type: 'EventBridge',
  };
  try {
    const report = (await invokeHandler(
      delivery.handler,
      JSON.parse(JSON.stringify(delivery.event)),
      scenario.region,
      scenario.account,
    )) as TargetReport | undefined;
    const acted = (report?.keys ?? []).filter((key) => key.action !== 'NONE');
    if (acted.length === 0) {
      return null;
    }
    return {
      ...base,
      detail: {
        eventID: delivery.eventID,
        eventName: detail?.eventName,
        errorCode: detail?.errorCode,
        actions: acted.map((key) => key.action),
      },
    };
  } catch (error) {
    return {
      ...base,
      detail: { eventID: delivery.eventID, error: error instanceof Error ? error.name : String(error) },
    };
  }
}

/** The run with the fast path's deliveries in its timeline and its e-mails among its notifications, by time. */
function withEventTargets(
  run: EngineRun,
  entries: readonly TimelineEntry[],
  published: readonly PublishedMessage[],
): EngineRun {
  const byTime = <T extends { at: string }>(items: T[]) =>
    items
      .map((item, i) => ({ item, i }))
      .sort((a, b) => a.item.at.localeCompare(b.item.at) || a.i - b.i)
      .map((x) => x.item);
  const sent: Notification[] = published.map((message) => ({
    at: message.at,
    kind: message.attributes.kind ?? 'notification',
    subject: message.subject,
    state: 'FastPath',
    message: message.message,
  }));
  return {
    ...run,
    timeline: byTime([...run.timeline, ...entries]),
    notifications: byTime([...run.notifications, ...sent]),
  };
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs a scenario (parsed, or raw data to parse) and returns its result. Simulations run one at a
 * time: virtual time fakes `Date` for the whole process while one runs.
 * @throws ScenarioError when the scenario cannot be run.
 */
export function simulate(
  scenario: Scenario | unknown,
  options: SimulateOptions = {},
): Promise<SimulationReport> {
  const run = queue.then(() => simulateNow(scenario, options));
  queue = run.catch(() => undefined);
  return run;
}

function isParsed(value: unknown): value is Scenario {
  return typeof value === 'object' && value !== null && (value as { start?: unknown }).start instanceof Date;
}

async function simulateNow(raw: Scenario | unknown, options: SimulateOptions): Promise<SimulationReport> {
  const parsed = isParsed(raw) ? raw : parseScenario(raw);
  const workflow = await workflowFor(parsed);
  // Every call over HTTP acts as one principal; it must be a role the definition names as the
  // workflow's own (its canaries are told from breakage by it), as a real Lambda's role would be.
  const scenario: Scenario = {
    ...parsed,
    workflowPrincipal: workflowPrincipalArnsOf(workflow)[0] ?? parsed.workflowPrincipal,
  };
  const logGroupName = logGroupNameOf(workflow) ?? DEFAULT_LOG_GROUP;
  const server = await startEmulatorServer();
  prepareEnvironment(server, options.verbose === true);
  process.env.AWS_REGION = scenario.region;

  const clock = VirtualClock.install(scenario.start);
  try {
    const account = buildAccount(scenario, logGroupName);
    const schedule = new CallSchedule(scenario.calls);
    const calls: ApplicationCall[] = [];
    for (const instance of schedule.takeBefore(scenario.start)) {
      calls.push(deliver(account, instance, true));
    }
    server.setAccount(account);
    const executionName = options.executionName ?? 'simulation';
    const bus = new EmulatedEventBridge({
      rules: workflow.eventRules ?? [],
      lagMs: scenario.cloudTrail.eventBridgeLagMs,
      drop: scenario.cloudTrail.eventBridgeDrop,
      account: scenario.account,
      region: scenario.region,
    });
    const detachBus = bus.attach(account);
    configureEventTargets(workflow, scenario);
    const busEntries: TimelineEntry[] = [];
    // Application calls and EventBridge deliveries in virtual-time order, up to `target` (a call's
    // event is due after it, so the bus is flushed before each call and at the end).
    const flushBus = async (untilMs: number) => {
      for (let at = bus.nextDueAt(); at !== null && at <= untilMs; at = bus.nextDueAt()) {
        clock.advanceTo(at);
        for (const delivery of bus.takeDue(at)) {
          const entry = await invokeTarget(delivery, scenario);
          if (entry) {
            busEntries.push(entry);
          }
        }
      }
    };
    const deliverUntil = async (target: Date) => {
      for (const instance of schedule.takeUntil(target)) {
        await flushBus(instance.at.getTime() - 1);
        clock.advanceTo(instance.at);
        calls.push(deliver(account, instance, false));
      }
      await flushBus(target.getTime());
      clock.advanceTo(target);
    };
    await deliverUntil(scenario.start);

    const snsFaults = new SnsFaults(scenario.faults);
    const executionArn = executionArnOf(workflow, executionName);
    account.sfn.setStatus(executionArn, 'RUNNING');
    let run: EngineRun;
    try {
      run = await runWorkflow(
        workflow,
        scenario.input,
        {
          clock,
          advanceTo: deliverUntil,
          invokeFunction: (handler, payload) =>
            invokeHandler(handler, payload, scenario.region, scenario.account),
          approvalAnswer: (step) =>
            step === 'deletion' ? scenario.approvals.deletion : scenario.approvals.disable,
          publishFault: (operation) => {
            const error = snsFaults.take(operation, clock.now());
            return error ? new TaskError(`SNS.${error}`, `${error} (injected by the simulator)`) : null;
          },
        },
        { executionName },
      );
      account.sfn.setStatus(executionArn, run.status);
    } finally {
      detachBus();
      server.setAccount(null);
    }
    run = withEventTargets(run, busEntries, account.sns.published());
    const stats = account.stats();
    const result = buildResult(scenario.name, run, keyReport(scenario, account), {
      logEventsScanned: stats.logEventsScanned,
      logEventsInWindow: account.logEventsInWindow(scenario.start.getTime(), clock.nowMs()),
    });
    options.inspect?.(account);
    return { ...result, calls };
  } finally {
    clock.uninstall();
  }
}
