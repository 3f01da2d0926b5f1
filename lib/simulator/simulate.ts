/**
 * One simulation end to end: the synthesized workflow, the real handlers and real SDK clients, an
 * emulated account behind the emulator server, and virtual time. Deterministic, no real sleeps.
 */
import './polyfill.js';
import { useRequestHandler } from '../../lambdas/aws/clients.js';
import { usePacing } from '../../lambdas/aws/pacing.js';
import { APPROVAL_REQUEST_KIND } from '../../lambdas/contracts/approval.js';
import { DAY_MS, MINUTE_MS } from '../../lambdas/domain/time.js';
import { KeyDeletionGuardConfigError, resolveGuardConfig } from '../constructs/config.js';
import { SimulatedApprover } from './approver.js';
import { VirtualClock } from './clock.js';
import {
  LAMBDA_DEFAULT_TIMEOUT_SECONDS,
  logGroupNameOf,
  type SubscriptionFilterSpec,
  type SynthesizedWorkflow,
  synthesizeWorkflow,
  type WorkflowFunction,
  workflowPrincipalArnsOf,
} from './definition.js';
import { type EmittedRecord, EmulatedAccount } from './emulator/account.js';
import { EmulatedDynamoDb } from './emulator/dynamodb.js';
import { defaultArn } from './emulator/inventory/resources.js';
import type { StoredSchedule } from './emulator/scheduler.js';
import { type EmulatorServer, startEmulatorServer } from './emulator/server.js';
import type { PublishedMessage } from './emulator/sns-sfn.js';
import {
  type EngineRun,
  executionArnOf,
  invokeHandler,
  type Notification,
  runWorkflow,
  summarizeResult,
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
  SIMULATED_FAULT_SERVICES,
} from './scenario.js';
import {
  AsyncInvokeQueue,
  type AsyncOutcome,
  functionNameOf,
  type MetricSink,
  ScheduledRules,
} from './scheduled-rules.js';
import { SubscriptionDeliveries } from './subscriptions.js';

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

const DEFAULT_LOG_GROUP = 'aws-cloudtrail-logs';
const BACKGROUND_SEED = 20_260_101;
const FAR_PAST = new Date(-8.64e15);
const FAR_FUTURE = new Date(8.64e15);
/** Lambda retries a failed asynchronous invocation twice, after about one and then two minutes. */
const ASYNC_RETRY_DELAYS_MS = [MINUTE_MS, 2 * MINUTE_MS] as const;
const SCHEDULE_GROUP_ENV = 'KDG_SCHEDULE_GROUP';

let environmentReady = false;

/**
 * Points every AWS SDK client of this process at the emulator, with dummy credentials, before any
 * handler module is imported (handlers create their clients once and keep them). The global
 * `AWS_ENDPOINT_URL` catches any other service, so nothing can reach a real AWS endpoint.
 */
export function prepareEnvironment(server: EmulatorServer, verbose: boolean): void {
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
  env.AWS_ENDPOINT_URL_SCHEDULER = server.url;
  env.AWS_ENDPOINT_URL_CLOUDWATCH = server.url;
  // The clients of lambdas/aws/clients.ts skip the loopback socket: the same router answers them in
  // process, byte for byte as over HTTP. The endpoints above still catch any client made elsewhere.
  useRequestHandler(server.requestHandler);
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

/**
 * The stack configuration of a scenario: its overrides, and the log group the emulated account
 * serves unless the scenario names one or has the stack create a trail. The stack fills in the rest
 * with its defaults (lib/constructs/config.ts).
 */
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

/** The schedule groups the template creates, as the functions that use them name them. */
function scheduleGroupsOf(workflow: SynthesizedWorkflow): string[] {
  return workflow.functions.flatMap((fn) => {
    const group = fn.environment?.[SCHEDULE_GROUP_ENV];
    return group ? [group] : [];
  });
}

/** How long before the scenario's start the stack (its subscription filters) was deployed. */
const DEPLOYED_BEFORE_START_MS = 60 * MINUTE_MS;

/**
 * The stack's subscription filters on the CloudTrail log group, created when the stack was deployed.
 * A filter on another group, or one CloudWatch Logs would refuse, would have failed the deployment.
 */
function addSubscriptionFilters(
  scenario: Scenario,
  account: EmulatedAccount,
  filters: readonly SubscriptionFilterSpec[],
): void {
  for (const filter of filters) {
    if (filter.logGroupName !== account.logGroupName) {
      throw new ScenarioError(
        `the stack subscribes ${filter.filterName} to log group '${filter.logGroupName}', which the emulated account does not have (its CloudTrail group is '${account.logGroupName}')`,
      );
    }
    try {
      account.addSubscriptionFilter({
        filterName: filter.filterName,
        filterPattern: filter.filterPattern,
        destinationArn: filter.destinationArn,
        creationTime: scenario.start.getTime() - DEPLOYED_BEFORE_START_MS,
      });
    } catch (error) {
      throw new ScenarioError(`subscription filter ${filter.filterName}: ${(error as Error).message}`);
    }
  }
}

function buildAccount(
  scenario: Scenario,
  logGroupName: string,
  scheduleGroups: readonly string[],
  subscriptionFilters: readonly SubscriptionFilterSpec[] = [],
): EmulatedAccount {
  const trail = scenario.cloudTrail;
  const account = new EmulatedAccount({
    account: scenario.account,
    region: scenario.region,
    workflowPrincipalArn: scenario.workflowPrincipal,
    filterScanPageSize: trail.filterScanPageSize ?? undefined,
    search: { pageLatencyMs: trail.searchPageLatencyMs, tps: trail.searchTps },
    // No group in the template: any group name is accepted rather than every schedule refused.
    scheduleGroups,
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
      origin: key.origin,
      multiRegion: key.multiRegion ?? undefined,
      grants: key.grants.map((grant) => ({
        granteePrincipal: grant.granteePrincipal,
        retiringPrincipal: grant.retiringPrincipal ?? undefined,
        operations: grant.operations,
        name: grant.name ?? undefined,
        createdAt: grant.createdAt,
        encryptionContextSubset: grant.encryptionContextSubset ?? undefined,
      })),
      keyPolicy: key.keyPolicy ?? undefined,
    });
  }
  addProtectedData(scenario, account);
  addSubscriptionFilters(scenario, account, subscriptionFilters);
  for (const [i, fault] of scenario.faults.entries()) {
    // parseScenario refuses the others; a Scenario built in code is checked here.
    if (!(SIMULATED_FAULT_SERVICES as readonly string[]).includes(fault.service)) {
      throw new ScenarioError(
        `faults[${i}].service: '${fault.service}' faults are not simulated (${SIMULATED_FAULT_SERVICES.join(', ')} are)`,
      );
    }
    // SNS publishes run in the engine (SnsFaults); every other service answers through the account.
    if (fault.service !== 'sns') {
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
  if (trail.backgroundPerDay > 0) {
    account.addBackgroundPerDay(trail.backgroundPerDay, BACKGROUND_SEED);
  }
  return account;
}

/**
 * Lambda's timeout as Step Functions and the asynchronous invokers see it: the error type the
 * runtime reports (`Sandbox.Timedout`) and its "Task timed out after N seconds" text.
 */
export class LambdaTimeoutError extends Error {
  constructor(seconds: number, requestId: string) {
    super(`RequestId: ${requestId} Error: Task timed out after ${seconds.toFixed(2)} seconds`);
    this.name = 'Sandbox.Timedout';
  }
}

/**
 * Runs the handlers as their functions: each invocation has the timeout its function has in the
 * template, counted in virtual time by the emulated account (the time its searches take), and one
 * that runs out of it fails with Lambda's timeout error whatever the handler returned.
 */
class FunctionRunner {
  private readonly byArn = new Map<string, WorkflowFunction>();
  private readonly byHandler = new Map<string, WorkflowFunction>();
  private invocations = 0;
  /** The virtual time the last invocation took (its searches), for whoever times what follows it. */
  lastSpentMs = 0;

  constructor(
    workflow: SynthesizedWorkflow,
    private readonly scenario: Scenario,
    private readonly account: EmulatedAccount,
  ) {
    for (const fn of workflow.functions) {
      this.byArn.set(fn.arn, fn);
      if (!this.byHandler.has(fn.handler)) this.byHandler.set(fn.handler, fn);
    }
  }

  /**
   * `publish`: whether this invocation counts in the function's `AWS/Lambda` Invocations and Errors
   * (the asynchronous queue publishes its own, with Throttles and AsyncEventsDropped).
   */
  async invoke(handler: string, payload: unknown, functionArn?: string, publish = true): Promise<unknown> {
    const fn =
      (functionArn === undefined
        ? undefined
        : (this.byArn.get(functionArn) ?? this.byArn.get(functionArn.replace(/:[^:]+$/, '')))) ??
      this.byHandler.get(handler);
    const seconds = fn?.timeoutSeconds ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS;
    const invocation = this.account.beginInvocation(fn?.logicalId ?? handler, seconds * 1000);
    this.invocations += 1;
    const restoreEnvironment = useFunctionEnvironment(fn, this.scenario.workflowPrincipal);
    const startedAt = Date.now();
    const dimensions = { FunctionName: functionNameOf(fn?.arn ?? functionArn ?? handler) };
    if (publish) this.account.cloudwatch.record('AWS/Lambda', 'Invocations', dimensions, startedAt, 1);
    try {
      const result = await invokeHandler(
        handler,
        payload,
        this.scenario.region,
        this.scenario.account,
        functionArn,
        () => Math.max(0, invocation.timeoutMs - invocation.spentMs),
      ).catch((error: unknown) => {
        if (invocation.timedOut) return undefined;
        throw error;
      });
      if (invocation.timedOut) {
        throw new LambdaTimeoutError(seconds, `simulated-${handler}-${this.invocations}`);
      }
      return result;
    } catch (error) {
      if (publish) this.account.cloudwatch.record('AWS/Lambda', 'Errors', dimensions, startedAt, 1);
      throw error;
    } finally {
      restoreEnvironment();
      this.lastSpentMs = invocation.spentMs;
      this.account.endInvocation(invocation);
    }
  }

  /** An asynchronous invocation (a rule's target): its error is returned, not thrown. */
  async invokeAsync(handler: string, event: unknown, functionArn: string): Promise<AsyncOutcome> {
    try {
      const result = await this.invoke(handler, event, functionArn, false);
      return { result, spentMs: this.lastSpentMs };
    } catch (error) {
      return { error, spentMs: this.lastSpentMs };
    }
  }
}

/**
 * The data at rest under the scenario's keys (`keys[].protects`), which the inventory services
 * answer from, and the key encrypting the CloudTrail log group (`cloudTrail.logGroupKmsKeyId`).
 */
function addProtectedData(scenario: Scenario, account: EmulatedAccount): void {
  for (const [i, key] of scenario.keys.entries()) {
    const keyArn = `arn:aws:kms:${key.region}:${scenario.account}:key/${key.keyId}`;
    for (const [j, resource] of key.protects.entries()) {
      try {
        account.addProtectedResource({
          type: resource.type,
          id: resource.id,
          arn: resource.arn ?? defaultArn(resource.type, resource.id, scenario.account, key.region),
          createdAt: resource.createdAt,
          region: key.region,
          recordedByConfig: resource.recordedByConfig,
          key: { keyId: key.keyId, arn: keyArn, aliases: key.aliases },
        });
      } catch (error) {
        throw new ScenarioError(`keys[${i}].protects[${j}]: ${(error as Error).message}`);
      }
    }
  }
  const logGroupKey = scenario.cloudTrail.logGroupKmsKeyId;
  if (logGroupKey !== null) {
    const key = account.inspectKey(logGroupKey);
    if (!key) {
      throw new ScenarioError(`cloudTrail.logGroupKmsKeyId: '${logGroupKey}' names no key of the scenario`);
    }
    try {
      account.setLogGroupKey(key.arn);
    } catch (error) {
      throw new ScenarioError(`cloudTrail.logGroupKmsKeyId: ${(error as Error).message}`);
    }
  }
}

/**
 * SNS faults hit the workflow's publish tasks, which the engine runs locally, and the publishes of
 * its Lambdas (the approval e-mails, the fast path's evidence), which reach the emulated SNS.
 */
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
    omitKeyId: call.omitKeyId,
    invokedBy: call.invokedBy ?? undefined,
    loggedIn: call.loggedIn,
    eventBridge: call.eventBridge ?? undefined,
    eventBridgeLagMs: call.eventBridgeLagMs ?? undefined,
    tags: call.tags ?? undefined,
    tagKeys: call.tagKeys ?? undefined,
    alias: call.alias ?? undefined,
    pendingWindowInDays: call.pendingWindowInDays ?? undefined,
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

/** The approval states of the definition by the step their request names (`Payload.step`). */
function approvalStatesOf(workflow: SynthesizedWorkflow): Record<string, string> {
  const states: Record<string, string> = {};
  for (const [name, state] of Object.entries(
    workflow.definition.States as Record<string, Record<string, unknown>>,
  )) {
    const payload = (state.Parameters as { Payload?: { step?: unknown } } | undefined)?.Payload;
    if (
      typeof payload?.step === 'string' &&
      /:lambda:invoke\.waitForTaskToken$/.test(String(state.Resource))
    ) {
      states[payload.step] = name;
    }
  }
  return states;
}

/** The variables the last simulation's template set in the process environment. */
const templateVariables = new Set<string>();

/**
 * The settings the template gives the handlers, as process environment (the handlers share one
 * process here): every function's `KDG_` variables (the hold registry's table, the fast path's topic,
 * state machine and principals, the check chain's schedule group and role). A name two functions set
 * differently (the workflow's principals as the fast path and the sweep each list them) is left out
 * here: FunctionRunner sets each function's own value for its invocations. The emulated account acts
 * as the scenario's workflow principal for every call over HTTP, so that principal is the workflow's
 * own too.
 */
function configureEventTargets(workflow: SynthesizedWorkflow, scenario: Scenario): void {
  const targets = new Set(
    [...(workflow.eventRules ?? []), ...(workflow.scheduledRules ?? [])].map((rule) => rule.handler),
  );
  const set = new Map<string, string>();
  // A variable an earlier simulation's template set and this one's does not (a sweep's maximum age,
  // read by the checks) must not reach this one's handlers.
  for (const name of templateVariables) {
    delete process.env[name];
  }
  templateVariables.clear();
  const differing = new Set<string>();
  for (const fn of workflow.functions) {
    for (const [name, value] of Object.entries(fn.environment ?? {})) {
      if (!name.startsWith('KDG_') || name === 'KDG_HANDLER') continue;
      const earlier = set.get(name);
      if (earlier !== undefined && earlier !== value) differing.add(name);
      set.set(name, value);
      templateVariables.add(name);
      process.env[name] = value;
    }
  }
  for (const name of differing) {
    delete process.env[name];
  }
  if (targets.size > 0 && !differing.has(PRINCIPALS_ENV)) {
    templateVariables.add(PRINCIPALS_ENV);
    process.env[PRINCIPALS_ENV] = withPrincipal(process.env[PRINCIPALS_ENV], scenario.workflowPrincipal);
  }
}

const PRINCIPALS_ENV = 'KDG_WORKFLOW_PRINCIPALS';

/** A comma-separated list of principals with `principal` added. */
function withPrincipal(list: string | undefined, principal: string): string {
  return [list, principal].filter((arn) => arn).join(',');
}

/**
 * Sets a function's own `KDG_` variables for one invocation (the principals it lists joined by the
 * scenario's, as configureEventTargets does); returns what puts the environment back.
 */
function useFunctionEnvironment(fn: WorkflowFunction | undefined, workflowPrincipal: string): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(fn?.environment ?? {})) {
    if (!name.startsWith('KDG_') || name === 'KDG_HANDLER') continue;
    saved.set(name, process.env[name]);
    process.env[name] = name === PRINCIPALS_ENV ? withPrincipal(value, workflowPrincipal) : value;
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

interface TargetReport {
  readonly keys?: readonly { readonly keyArn: string; readonly action: string; readonly reason: string }[];
}

/**
 * One EventBridge delivery: the real handler, as Lambda would invoke it asynchronously. A handler
 * error is kept in the timeline (Lambda would retry, then dead-letter it; the polling watch stays
 * the guarantee). Returns a timeline entry for deliveries that changed a key or failed.
 */
async function invokeTarget(delivery: BusDelivery, runner: FunctionRunner): Promise<TimelineEntry | null> {
  const detail = delivery.event.detail as { eventName?: string; errorCode?: string } | undefined;
  const base = {
    at: new Date().toISOString(),
    state: 'FastPath',
    type: 'EventBridge',
  };
  try {
    const report = (await runner.invoke(delivery.handler, JSON.parse(JSON.stringify(delivery.event)))) as
      | TargetReport
      | undefined;
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

/** The secret of an approval link in an e-mail's text, and what a result shows instead. */
const LINK_SECRET_IN_TEXT = /([?&]link=)[A-Za-z0-9_-]+/g;
export const LINK_SECRET_MARKER = '<one-time-secret>';

/**
 * The run with what the world did before the execution started in its timeline and the Lambdas'
 * e-mails among its notifications, by time (what the world did during the run the engine filed).
 */
function withEventTargets(
  run: EngineRun,
  entries: readonly TimelineEntry[],
  published: readonly PublishedMessage[],
  approvalStates: Readonly<Record<string, string>>,
): EngineRun {
  const byTime = <T extends { at: string }>(items: T[]) =>
    items
      .map((item, i) => ({ item, i }))
      .sort((a, b) => a.item.at.localeCompare(b.item.at) || a.i - b.i)
      .map((x) => x.item);
  // Approval e-mails come from the request function of an approval state; the rest from the fast path.
  const sent: Notification[] = published.map((message) => {
    const step = message.attributes.kind === APPROVAL_REQUEST_KIND ? message.attributes.step : undefined;
    return {
      at: message.at,
      kind: message.attributes.kind ?? 'notification',
      subject: message.subject,
      state: step ? (approvalStates[step] ?? 'RequestApproval') : 'FastPath',
      ...(step ? { step } : {}),
      // A link's secret is random: shown as a marker, so a result is the same for the same scenario
      // (and holds no credential).
      message: message.message.replace(LINK_SECRET_IN_TEXT, `$1${LINK_SECRET_MARKER}`),
    };
  });
  return {
    ...run,
    timeline: byTime([...run.timeline, ...entries]),
    // At one instant an approval e-mail comes first: what its answer causes (a rejection's e-mail)
    // follows it, and no e-mail of the workflow leads to an approval request at the same instant.
    notifications: byTime([
      ...sent.filter((n) => n.kind === APPROVAL_REQUEST_KIND),
      ...run.notifications,
      ...sent.filter((n) => n.kind !== APPROVAL_REQUEST_KIND),
    ]),
  };
}

function parseJson(text: string | null): Record<string, unknown> | undefined {
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The timeline's name for a scheduled check: the names lib/constructs/workflow.ts gives the checks
 * the watch chain runs.
 */
function scheduledStateOf(event: unknown): string {
  const phase = (event as { phase?: unknown } | null)?.phase;
  return phase === 'OBSERVE'
    ? 'CheckForBreakage'
    : phase === 'PENDING'
      ? 'CheckPendingUse'
      : 'ScheduledInvoke';
}

interface AsyncRetry {
  readonly at: number;
  readonly schedule: StoredSchedule;
  /** Lambda's retry number (1 or 2). */
  readonly retry: number;
}

/**
 * Fires due schedules the way EventBridge Scheduler and Lambda would: the target function's handler
 * runs with the schedule's Input as its event (an asynchronous invocation), and a handler error is
 * retried twice by Lambda, then dropped. Every invocation is a timeline entry.
 */
class ScheduledInvoker {
  private readonly handlers = new Map<string, string>();
  private readonly retries: AsyncRetry[] = [];

  constructor(
    workflow: SynthesizedWorkflow,
    private readonly runner: FunctionRunner,
    private readonly account: EmulatedAccount,
  ) {
    for (const fn of workflow.functions) {
      this.handlers.set(fn.arn, fn.handler);
    }
  }

  nextRetryAt(): number | null {
    return this.retries[0]?.at ?? null;
  }

  async retryDue(at: number): Promise<TimelineEntry[]> {
    const entries: TimelineEntry[] = [];
    while (this.retries[0] && this.retries[0].at <= at) {
      const retry = this.retries.shift() as AsyncRetry;
      entries.push(await this.fire(retry.schedule, retry.retry));
    }
    return entries;
  }

  async fire(schedule: StoredSchedule, retry = 0): Promise<TimelineEntry> {
    const arn = schedule.target.arn;
    const handler = this.handlers.get(arn) ?? this.handlers.get(arn.replace(/:[^:]+$/, ''));
    // Scheduler sends a Lambda target's Input as the event; it refused an Input that is not JSON.
    const input = schedule.target.input;
    const event: unknown = input === null ? {} : (parseJson(input) ?? input);
    const at = new Date().toISOString();
    const state = scheduledStateOf(event);
    const detail: Record<string, unknown> = {};
    // Retries of this check so far: the chain's own (by schedule, `attempt`) and Lambda's.
    const attempt = (event as { attempt?: unknown } | null)?.attempt;
    const retries = (typeof attempt === 'number' && attempt > 0 ? attempt : 0) + retry;
    if (retries > 0) {
      detail.retries = retries;
    }
    if (retry > 0) {
      detail.lambdaRetry = retry;
    }
    if (!handler) {
      // Scheduler cannot invoke a function the template does not have: after its retries the event is gone.
      return {
        at,
        state,
        type: 'ScheduledInvoke',
        detail: { ...detail, schedule: schedule.name, error: 'ResourceNotFoundException', dropped: true },
      };
    }
    const sfn = this.account.sfn;
    const callsBefore = sfn.tokenCalls().length;
    const schedulesBefore = this.account.scheduler.lastSequence();
    try {
      const result = await this.runner.invoke(handler, event, arn);
      // A chain that goes on hands its state to the next schedule: that is what this check found.
      for (const next of this.account.scheduler.list().filter((s) => s.sequence > schedulesBefore)) {
        Object.assign(detail, summarizeResult(parseJson(next.target.input)?.watch));
      }
      Object.assign(detail, summarizeResult(result));
    } catch (error) {
      detail.error = error instanceof Error ? error.name : String(error);
      const delay = ASYNC_RETRY_DELAYS_MS[retry];
      if (delay === undefined) {
        detail.dropped = true;
      } else {
        this.retries.push({ at: Date.now() + delay, schedule, retry: retry + 1 });
        this.retries.sort((a, b) => a.at - b.at);
      }
    }
    for (const call of sfn.tokenCalls().slice(callsBefore)) {
      const answer = call.operation === 'SendTaskHeartbeat' ? null : sfn.taskState(call.token)?.answer;
      if (answer?.kind === 'success') {
        Object.assign(detail, summarizeResult(answer.output), { answered: 'success' });
      } else if (answer?.kind === 'failure') {
        Object.assign(detail, { answered: 'failure', error: answer.error ?? 'States.TaskFailed' });
      }
    }
    return { at, state, type: 'ScheduledInvoke', handler, detail };
  }
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
    const account = buildAccount(
      scenario,
      logGroupName,
      scheduleGroupsOf(workflow),
      workflow.subscriptionFilters ?? [],
    );
    account.tables = await EmulatedDynamoDb.start(workflow.tables ?? []);
    const schedule = new CallSchedule(scenario.calls);
    const calls: ApplicationCall[] = [];
    for (const instance of schedule.takeBefore(scenario.start)) {
      calls.push(deliver(account, instance, true));
    }
    server.setAccount(account);
    // A search pacing its pages waits on the invocation's virtual clock, never on a real timer.
    usePacing(async (ms) => account.waitInInvocation(ms));
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
    const runner = new FunctionRunner(workflow, scenario, account);
    const invoker = new ScheduledInvoker(workflow, runner, account);
    const publish: MetricSink = (namespace, name, dimensions, atMs, value) =>
      account.cloudwatch.record(namespace, name, dimensions, atMs, value);
    // One asynchronous queue per account: the rules' and the subscriptions' invocations share each
    // function's reserved concurrency.
    const asyncQueue = new AsyncInvokeQueue(
      workflow.functions,
      (handler, event, functionArn) => runner.invokeAsync(handler, event, functionArn),
      publish,
    );
    const rules = new ScheduledRules(
      workflow.scheduledRules ?? [],
      workflow.functions,
      (handler, event, functionArn) => runner.invokeAsync(handler, event, functionArn),
      scenario.account,
      scenario.region,
      scenario.start.getTime(),
      asyncQueue,
    );
    const deliveries = new SubscriptionDeliveries(
      workflow.subscriptionFilters ?? [],
      account,
      asyncQueue,
      publish,
      scenario.start.getTime(),
    );
    const approver = new SimulatedApprover({
      account,
      region: scenario.region,
      accountId: scenario.account,
      answerFor: (step) => (step === 'deletion' ? scenario.approvals.deletion : scenario.approvals.disable),
      // How long the approver takes; an answer after the request expired changes nothing, and the
      // page they open says so.
      delayMs: (step) =>
        (step === 'deletion' ? scenario.approvals.deletionAfterMs : scenario.approvals.disableAfterMs) ?? 0,
      keyState: () => {
        const requested = subjectKeyId(scenario);
        return requested === null ? null : (account.inspectKey(requested)?.state ?? null);
      },
    });
    // The asynchronous side of the world: KMS deleting keys, EventBridge deliveries, schedules
    // firing, the approver answering an e-mail (late, perhaps) and Lambda's retries of failed
    // asynchronous invocations.
    const nextEventAt = (): number | null => {
      const times = [
        account.nextDeletionAt(),
        bus.nextDueAt(),
        account.scheduler.nextDueAt(),
        rules.nextDueAt(),
        deliveries.nextDueAt(),
        approver.nextDueAt(),
        invoker.nextRetryAt(),
      ].filter((t): t is number => t !== null);
      return times.length > 0 ? Math.min(...times) : null;
    };
    const flushAsync = async (untilMs: number, entries: TimelineEntry[]) => {
      for (let at = nextEventAt(); at !== null && at <= untilMs; at = nextEventAt()) {
        clock.advanceTo(at);
        if (account.nextDeletionAt() === at) {
          for (const key of account.settleKeys()) {
            entries.push({
              at: new Date(at).toISOString(),
              state: 'KeyDeleted',
              type: 'KMS',
              detail: { keyId: key.keyId, deletionDate: key.deletionDate?.toISOString() ?? null },
            });
          }
        } else if (bus.nextDueAt() === at) {
          for (const delivery of bus.takeDue(at)) {
            const entry = await invokeTarget(delivery, runner);
            if (entry) entries.push(entry);
          }
        } else if (account.scheduler.nextDueAt() === at) {
          for (const due of account.scheduler.takeDue(at)) {
            entries.push(await invoker.fire(due));
          }
        } else if (rules.nextDueAt() === at) {
          entries.push(...(await rules.runDue(at)));
        } else if (deliveries.nextDueAt() === at) {
          entries.push(...(await deliveries.runDue(at)));
        } else if (approver.nextDueAt() === at) {
          entries.push(...(await approver.actDue(at)));
        } else {
          entries.push(...(await invoker.retryDue(at)));
        }
      }
    };
    // Application calls and the asynchronous events in virtual-time order, up to `target` (a call's
    // event is due after it, so the rest is flushed before each call and at the end).
    const deliverUntil = async (target: Date): Promise<TimelineEntry[]> => {
      const entries: TimelineEntry[] = [];
      for (const instance of schedule.takeUntil(target)) {
        await flushAsync(instance.at.getTime() - 1, entries);
        clock.advanceTo(instance.at);
        calls.push(deliver(account, instance, false));
      }
      await flushAsync(target.getTime(), entries);
      clock.advanceTo(target);
      return entries;
    };
    const preStart = await deliverUntil(scenario.start);

    for (const fn of workflow.functions) {
      const linksTable = fn.environment?.KDG_APPROVAL_LINKS_TABLE;
      if (linksTable) account.faultFreeTables.add(linksTable);
    }
    const snsFaults = new SnsFaults(scenario.faults);
    account.sns.useFaults((operation) => snsFaults.take(operation, clock.now()));
    const executionArn = executionArnOf(workflow, executionName);
    account.sfn.setStatus(executionArn, 'RUNNING');
    let run: EngineRun;
    let after: TimelineEntry[] = [];
    try {
      run = await runWorkflow(
        workflow,
        scenario.input,
        {
          clock,
          advanceTo: deliverUntil,
          nextEventAt,
          taskTokens: account.sfn,
          invokeFunction: (handler, payload, functionArn) => runner.invoke(handler, payload, functionArn),
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
      // The world goes on after the execution: calls keep coming, the fast path keeps reacting,
      // late answers arrive, and KMS deletes a key whose waiting period ends.
      const end = continuationEnd(scenario, account, approver, clock.nowMs());
      if (end > clock.nowMs()) {
        after = await deliverUntil(new Date(end));
      }
    } finally {
      detachBus();
      usePacing(undefined);
      server.setAccount(null);
      await account.tables?.close();
    }
    run = withEventTargets(run, [...preStart, ...after], account.sns.published(), approvalStatesOf(workflow));
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

/**
 * Where the world stops: the scenario's `runUntil`, else the subject key's DeletionDate when one is
 * scheduled (KMS deletes the key then) and the last late approval answer, never before the
 * execution's end.
 */
function continuationEnd(
  scenario: Scenario,
  account: EmulatedAccount,
  approver: SimulatedApprover,
  nowMs: number,
): number {
  if (scenario.runUntil) {
    return Math.max(nowMs, scenario.runUntil.getTime());
  }
  const requested = subjectKeyId(scenario);
  const key = requested === null ? undefined : account.inspectKey(requested);
  const deletion = key?.state === 'PendingDeletion' ? (key.deletionDate?.getTime() ?? nowMs) : nowMs;
  return Math.max(nowMs, deletion, approver.lastDueAt() ?? nowMs);
}
