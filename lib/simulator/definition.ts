/**
 * The state machine definition, taken from the synthesized CloudFormation template (never a copy
 * written by hand), with every CloudFormation token resolved to a stable fake value.
 */
import type { KeyDeletionGuardProps } from '../constructs/key-deletion-guard.js';
import type { TableSpec } from './emulator/dynamodb.js';

/** The part of a CloudFormation template the simulator reads. */
export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResource>>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

export interface WorkflowEnv {
  readonly account: string;
  readonly region: string;
}

/** A Lambda function of the template and the handler folder (`lambdas/<handler>/`) it runs. */
export interface WorkflowFunction {
  readonly logicalId: string;
  readonly arn: string;
  readonly handler: string;
  /** The function's environment variables, tokens resolved (the handler reads some at run time). */
  readonly environment?: Readonly<Record<string, string>>;
  /** The function's configured timeout (`Timeout`; Lambda's default of 3 s when the template sets none). */
  readonly timeoutSeconds?: number;
  /** `ReservedConcurrentExecutions`: at most this many invocations at once (absent: not limited here). */
  readonly reservedConcurrency?: number;
  /**
   * How Lambda retries the function's asynchronous invocations (`AWS::Lambda::EventInvokeConfig` of
   * `$LATEST`; absent: Lambda's defaults, two retries and events kept six hours).
   */
  readonly asyncInvoke?: AsyncInvokeConfig;
}

/** A function's asynchronous invocation settings, as `AWS::Lambda::EventInvokeConfig` sets them. */
export interface AsyncInvokeConfig {
  /** Retries of an invocation that returned an error (0–2). */
  readonly maximumRetryAttempts?: number;
  /** How long an event may wait in the function's queue (60–21600 s). */
  readonly maximumEventAgeSeconds?: number;
}

/** What Lambda gives a function whose configuration names no timeout. */
export const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;

/** An EventBridge rule of the template whose target is one of the handlers (the fast path). */
export interface EventRule {
  readonly logicalId: string;
  /** `ENABLED`, `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`. */
  readonly state: string;
  readonly pattern: Readonly<Record<string, unknown>>;
  /** Handler folder of the target function. */
  readonly handler: string;
}

/**
 * A rule of the template that runs on a schedule (`ScheduleExpression`) and targets one of the
 * handler functions: EventBridge sends the target a Scheduled Event at every tick of the schedule.
 */
export interface ScheduledRule {
  readonly logicalId: string;
  /** The rule's ARN (the `resources` of its Scheduled Events). */
  readonly arn: string;
  /** `ENABLED` or `DISABLED`. */
  readonly state: string;
  readonly scheduleExpression: string;
  /** The rate of a `rate(...)` expression, in ms. */
  readonly rateMs: number;
  /** Handler folder of the target function, and the function's ARN. */
  readonly handler: string;
  readonly functionArn: string;
  /** The target's constant `Input` (JSON text), or null: the target receives the Scheduled Event. */
  readonly input: string | null;
}

const RATE_UNITS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * The period of an EventBridge `rate(value unit)` expression, in ms: a positive whole value, the unit
 * singular for 1 and plural above (`rate(1 hours)` and `rate(5 hour)` are refused by EventBridge).
 * A `cron(...)` expression is not simulated: refused rather than guessed.
 */
export function rateOf(expression: string): number {
  const match = /^rate\((\d+) (minute|hour|day)(s?)\)$/.exec(expression);
  const value = Number(match?.[1]);
  const unit = RATE_UNITS[match?.[2] ?? ''];
  if (!match || unit === undefined || !(value >= 1) || (value === 1) !== (match[3] === '')) {
    throw new DefinitionError(
      `schedule expression '${expression}' is not a rate expression the simulator runs (rate(1 minute), rate(5 minutes), rate(1 hour), ...)`,
    );
  }
  return value * unit;
}

/** An Amazon States Language document as parsed JSON. */
export type AslDefinition = {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly [field: string]: unknown;
};

export type AslState = { readonly Type: string; readonly [field: string]: unknown };

export interface SynthesizedWorkflow {
  readonly definition: AslDefinition;
  readonly stateMachineLogicalId: string;
  readonly stateMachineArn: string;
  readonly functions: readonly WorkflowFunction[];
  readonly env: WorkflowEnv;
  /** EventBridge rules that invoke a handler (absent or empty: the stack has none). */
  readonly eventRules?: readonly EventRule[];
  /** EventBridge rules that invoke a handler on a schedule (absent or empty: the stack has none). */
  readonly scheduledRules?: readonly ScheduledRule[];
  /** The stack's DynamoDB tables (absent or empty: the stack has none). */
  readonly tables?: readonly TableSpec[];
  /** Subscription filters that deliver a log group to a handler (absent or empty: the stack has none). */
  readonly subscriptionFilters?: readonly SubscriptionFilterSpec[];
}

/**
 * An `AWS::Logs::SubscriptionFilter` of the template whose destination is one of the handler
 * functions: CloudWatch Logs invokes that function asynchronously with the group's matching events.
 */
export interface SubscriptionFilterSpec {
  readonly logicalId: string;
  readonly logGroupName: string;
  /** `FilterName`, or the name CloudFormation would generate (stack name, logical ID). */
  readonly filterName: string;
  readonly filterPattern: string;
  readonly destinationArn: string;
  /** Handler folder of the destination function, and the function's ARN. */
  readonly handler: string;
  readonly functionArn: string;
  /**
   * Whether an `AWS::Lambda::Permission` lets CloudWatch Logs (`logs.amazonaws.com` or
   * `logs.<region>.amazonaws.com`) invoke the function for this log group: without one, every
   * delivery is refused with AccessDeniedException.
   */
  readonly logsMayInvoke: boolean;
}

/** The template has no usable state machine, or a token the simulator cannot resolve. */
export class DefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DefinitionError';
  }
}

/** Environment variable that names a Lambda's handler folder under `lambdas/`. */
export const HANDLER_ENV = 'KDG_HANDLER';

const RESOURCE_SERVICE: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'lambda',
  'AWS::SNS::Topic': 'sns',
  'AWS::StepFunctions::StateMachine': 'states',
  'AWS::Logs::LogGroup': 'logs',
  'AWS::IAM::Role': 'iam',
  'AWS::SQS::Queue': 'sqs',
  'AWS::DynamoDB::Table': 'dynamodb',
  'AWS::KMS::Key': 'kms',
  'AWS::Events::Rule': 'events',
  'AWS::Logs::SubscriptionFilter': 'logs',
};

/** The fake ARN of a template resource: stable, and shaped like the real one where it matters. */
export function fakeArn(template: CfnTemplate, logicalId: string, env: WorkflowEnv): string {
  const resource = template.Resources?.[logicalId];
  if (!resource) {
    throw new DefinitionError(`token refers to '${logicalId}', which is not a resource of the template`);
  }
  const { account, region } = env;
  switch (resource.Type) {
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${region}:${account}:function:${logicalId}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${region}:${account}:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${region}:${account}:stateMachine:${logicalId}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${account}:role/${logicalId}`;
    case 'AWS::Logs::LogGroup':
      return `arn:aws:logs:${region}:${account}:log-group:${logicalId}:*`;
    case 'AWS::DynamoDB::Table':
      return `arn:aws:dynamodb:${region}:${account}:table/${tableNameOf(logicalId, resource)}`;
    case 'AWS::Events::Rule':
      return `arn:aws:events:${region}:${account}:rule/${logicalId}`;
    default: {
      const service =
        RESOURCE_SERVICE[resource.Type] ?? resource.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
      return `arn:aws:${service}:${region}:${account}:${logicalId}`;
    }
  }
}

function refValue(template: CfnTemplate, name: string, env: WorkflowEnv): string {
  switch (name) {
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::Region':
      return env.region;
    case 'AWS::AccountId':
      return env.account;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return 'KmsDeletionGuard';
    case 'AWS::NoValue':
      return '';
  }
  const resource = template.Resources?.[name];
  if (!resource) {
    throw new DefinitionError(`cannot resolve {"Ref":"${name}"}: not a resource or pseudo parameter`);
  }
  // Ref answers what CloudFormation answers per type: ARNs for topics and state machines, names
  // for functions and log groups (their literal name when the template sets one).
  switch (resource.Type) {
    case 'AWS::SNS::Topic':
    case 'AWS::StepFunctions::StateMachine':
      return fakeArn(template, name, env);
    case 'AWS::Lambda::Function': {
      const fnName = resource.Properties?.FunctionName;
      return typeof fnName === 'string' ? fnName : name;
    }
    case 'AWS::Logs::LogGroup': {
      const groupName = resource.Properties?.LogGroupName;
      return typeof groupName === 'string' ? groupName : name;
    }
    case 'AWS::DynamoDB::Table':
      return tableNameOf(name, resource);
    case 'AWS::Logs::SubscriptionFilter':
      return subscriptionFilterNameOf(name, resource);
    default:
      return name;
  }
}

function getAttValue(template: CfnTemplate, logicalId: string, attribute: string, env: WorkflowEnv): string {
  if (attribute === 'Arn' || attribute === 'TopicArn') {
    return fakeArn(template, logicalId, env);
  }
  if (attribute === 'Name' || attribute === 'TopicName') {
    return logicalId;
  }
  throw new DefinitionError(`cannot resolve {"Fn::GetAtt":["${logicalId}","${attribute}"]}`);
}

/** Resolves the intrinsic functions CDK emits in a definition to plain values. */
export function resolveTokens(value: unknown, template: CfnTemplate, env: WorkflowEnv): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolveTokens(v, template, env));
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [fn] = keys as [string];
    const arg = obj[fn];
    switch (fn) {
      case 'Ref':
        return refValue(template, String(arg), env);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split('.');
        return getAttValue(template, String(id), String(attr), env);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolveTokens(parts, template, env) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return String(resolveTokens(source, template, env)).split(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = resolveTokens(list, template, env) as unknown[];
        return items[Number(resolveTokens(index, template, env))];
      }
      case 'Fn::Sub':
        return resolveSub(arg, template, env);
      default:
        if (fn.startsWith('Fn::')) {
          throw new DefinitionError(`cannot resolve ${fn} in the state machine definition`);
        }
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveTokens(obj[k], template, env)]));
}

function resolveSub(arg: unknown, template: CfnTemplate, env: WorkflowEnv): string {
  const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
  return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
    if (name in vars) {
      return String(resolveTokens(vars[name], template, env));
    }
    const [id, attr] = name.split('.');
    return attr ? getAttValue(template, String(id), attr, env) : refValue(template, name, env);
  });
}

function stateMachineOf(template: CfnTemplate, logicalId?: string): [string, CfnResource] {
  const machines = Object.entries(template.Resources ?? {}).filter(
    ([id, r]) =>
      r.Type === 'AWS::StepFunctions::StateMachine' && (logicalId === undefined || id === logicalId),
  );
  const [first, second] = machines;
  if (!first) {
    throw new DefinitionError(
      logicalId ? `the template has no state machine '${logicalId}'` : 'the template has no state machine',
    );
  }
  if (second) {
    throw new DefinitionError(
      `the template has several state machines (${machines.map(([id]) => id).join(', ')})`,
    );
  }
  return first;
}

/** A table's name: its literal `TableName`, else the logical ID (CloudFormation would generate one). */
function tableNameOf(logicalId: string, resource: CfnResource): string {
  const name = resource.Properties?.TableName;
  return typeof name === 'string' ? name : logicalId;
}

/** The template's DynamoDB tables, as the simulator creates them in its emulated DynamoDB. */
export function tablesOf(template: CfnTemplate): TableSpec[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      return {
        TableName: tableNameOf(logicalId, resource),
        KeySchema: props.KeySchema as TableSpec['KeySchema'],
        AttributeDefinitions: props.AttributeDefinitions as TableSpec['AttributeDefinitions'],
        ...(props.GlobalSecondaryIndexes
          ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes as TableSpec['GlobalSecondaryIndexes'] }
          : {}),
      };
    });
}

/** Every Lambda function of the template that names its handler folder in `KDG_HANDLER`. */
export function workflowFunctions(template: CfnTemplate, env: WorkflowEnv): WorkflowFunction[] {
  const functions: WorkflowFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::Function') {
      continue;
    }
    const environment = resource.Properties?.Environment as
      | { Variables?: Record<string, unknown> }
      | undefined;
    const handler = environment?.Variables?.[HANDLER_ENV];
    if (typeof handler === 'string') {
      const variables: Record<string, string> = {};
      for (const [name, value] of Object.entries(environment?.Variables ?? {})) {
        try {
          variables[name] = String(resolveTokens(value, template, env));
        } catch (error) {
          // A variable the simulator cannot resolve is one no simulated handler reads.
          if (!(error instanceof DefinitionError)) throw error;
        }
      }
      const timeout = resource.Properties?.Timeout;
      const reserved = resource.Properties?.ReservedConcurrentExecutions;
      const asyncInvoke = asyncInvokeConfigOf(template, logicalId, env);
      functions.push({
        logicalId,
        arn: fakeArn(template, logicalId, env),
        handler,
        environment: variables,
        timeoutSeconds: typeof timeout === 'number' ? timeout : LAMBDA_DEFAULT_TIMEOUT_SECONDS,
        ...(typeof reserved === 'number' ? { reservedConcurrency: reserved } : {}),
        ...(asyncInvoke ? { asyncInvoke } : {}),
      });
    }
  }
  return functions;
}

/** The `AWS::Lambda::EventInvokeConfig` of a function's `$LATEST` (what its rules invoke), if any. */
function asyncInvokeConfigOf(
  template: CfnTemplate,
  functionLogicalId: string,
  env: WorkflowEnv,
): AsyncInvokeConfig | undefined {
  const name = refValue(template, functionLogicalId, env);
  const arn = fakeArn(template, functionLogicalId, env);
  for (const resource of Object.values(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
    const props = resource.Properties ?? {};
    const target = String(resolveTokens(props.FunctionName, template, env));
    if ((target !== name && target !== arn) || props.Qualifier !== '$LATEST') continue;
    const retries = props.MaximumRetryAttempts;
    const age = props.MaximumEventAgeInSeconds;
    return {
      ...(typeof retries === 'number' ? { maximumRetryAttempts: retries } : {}),
      ...(typeof age === 'number' ? { maximumEventAgeSeconds: age } : {}),
    };
  }
  return undefined;
}

/**
 * The template's EventBridge rules with an event pattern that target a handler function, with the
 * handler they invoke. A rule with only a schedule matches no event (scheduledRulesOf).
 */
export function eventRulesOf(
  template: CfnTemplate,
  functions: readonly WorkflowFunction[],
  env: WorkflowEnv,
): EventRule[] {
  const byArn = new Map(functions.map((fn) => [fn.arn, fn.handler]));
  const rules: EventRule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Events::Rule' || resource.Properties?.EventPattern === undefined) {
      continue;
    }
    const props = resource.Properties ?? {};
    for (const target of (props.Targets as { Arn?: unknown }[] | undefined) ?? []) {
      const handler = byArn.get(String(resolveTokens(target.Arn, template, env)));
      if (handler) {
        rules.push({
          logicalId,
          state: typeof props.State === 'string' ? props.State : 'ENABLED',
          pattern: (props.EventPattern ?? {}) as Record<string, unknown>,
          handler,
        });
      }
    }
  }
  return rules;
}

interface RuleTarget {
  readonly Arn?: unknown;
  readonly Input?: unknown;
  readonly InputPath?: unknown;
  readonly InputTransformer?: unknown;
}

/**
 * The template's EventBridge rules with a `ScheduleExpression` that target a handler function, one
 * entry per such target. What the target receives is the Scheduled Event, or the target's constant
 * `Input`; an `InputPath` or `InputTransformer` is refused rather than guessed.
 */
export function scheduledRulesOf(
  template: CfnTemplate,
  functions: readonly WorkflowFunction[],
  env: WorkflowEnv,
): ScheduledRule[] {
  const byArn = new Map(functions.map((fn) => [fn.arn, fn]));
  const rules: ScheduledRule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const props = resource.Properties ?? {};
    if (resource.Type !== 'AWS::Events::Rule' || props.ScheduleExpression === undefined) {
      continue;
    }
    const expression = String(resolveTokens(props.ScheduleExpression, template, env));
    for (const target of (props.Targets as RuleTarget[] | undefined) ?? []) {
      const fn = byArn.get(String(resolveTokens(target.Arn, template, env)));
      if (!fn) continue;
      if (target.InputPath !== undefined || target.InputTransformer !== undefined) {
        throw new DefinitionError(
          `rule '${logicalId}': a scheduled target's InputPath or InputTransformer is not simulated`,
        );
      }
      const input = target.Input === undefined ? null : String(resolveTokens(target.Input, template, env));
      rules.push({
        logicalId,
        arn: fakeArn(template, logicalId, env),
        state: typeof props.State === 'string' ? props.State : 'ENABLED',
        scheduleExpression: expression,
        rateMs: rateOf(expression),
        handler: fn.handler,
        functionArn: fn.arn,
        input,
      });
    }
  }
  return rules;
}

/** A subscription filter's name: its literal `FilterName`, else one CloudFormation-like (stack name, logical ID). */
function subscriptionFilterNameOf(logicalId: string, resource: CfnResource): string {
  const name = resource.Properties?.FilterName;
  return typeof name === 'string' ? name : `KmsDeletionGuard-${logicalId}`;
}

/**
 * Whether a `*` and `?` pattern of an ARN condition (ArnLike) covers `arn`: `*` any run of
 * characters, `?` any one.
 */
function arnLike(pattern: string, arn: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(arn);
}

/**
 * Whether the template lets CloudWatch Logs invoke the function for the log group: an
 * `AWS::Lambda::Permission` for `lambda:InvokeFunction` (or `lambda:*`) on the function (its name or
 * ARN), whose principal is CloudWatch Logs' service principal (global or of the Region), and whose
 * `SourceArn` and `SourceAccount`, when set, match the group's ARN (as CloudWatch Logs presents it,
 * ending in `:*`) and the account.
 */
function logsMayInvoke(
  template: CfnTemplate,
  fn: WorkflowFunction,
  logGroupName: string,
  env: WorkflowEnv,
): boolean {
  const name = refValue(template, fn.logicalId, env);
  const groupArn = `arn:aws:logs:${env.region}:${env.account}:log-group:${logGroupName}:*`;
  const principals = new Set(['logs.amazonaws.com', `logs.${env.region}.amazonaws.com`]);
  return Object.values(template.Resources ?? {}).some((resource) => {
    if (resource.Type !== 'AWS::Lambda::Permission') return false;
    const props = resource.Properties ?? {};
    const resolve = (value: unknown) =>
      value === undefined ? undefined : String(resolveTokens(value, template, env));
    const target = resolve(props.FunctionName);
    const sourceArn = resolve(props.SourceArn);
    const sourceAccount = resolve(props.SourceAccount);
    return (
      (target === name || target === fn.arn) &&
      (props.Action === 'lambda:InvokeFunction' || props.Action === 'lambda:*') &&
      principals.has(resolve(props.Principal) ?? '') &&
      (sourceArn === undefined || arnLike(sourceArn, groupArn)) &&
      (sourceAccount === undefined || sourceAccount === env.account)
    );
  });
}

/**
 * The template's subscription filters whose destination is a handler function. A filter whose
 * destination is anything else (a stream, a function the simulator does not run) is refused rather
 * than left silently undelivered.
 */
export function subscriptionFiltersOf(
  template: CfnTemplate,
  functions: readonly WorkflowFunction[],
  env: WorkflowEnv,
): SubscriptionFilterSpec[] {
  const byArn = new Map(functions.map((fn) => [fn.arn, fn]));
  const filters: SubscriptionFilterSpec[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Logs::SubscriptionFilter') continue;
    const props = resource.Properties ?? {};
    const destinationArn = String(resolveTokens(props.DestinationArn, template, env));
    const fn = byArn.get(destinationArn);
    if (!fn) {
      throw new DefinitionError(
        `subscription filter '${logicalId}': its destination ${destinationArn} is not a handler function the simulator runs`,
      );
    }
    const logGroupName = String(resolveTokens(props.LogGroupName, template, env));
    filters.push({
      logicalId,
      logGroupName,
      filterName: subscriptionFilterNameOf(logicalId, resource),
      filterPattern:
        props.FilterPattern === undefined ? '' : String(resolveTokens(props.FilterPattern, template, env)),
      destinationArn,
      handler: fn.handler,
      functionArn: fn.arn,
      logsMayInvoke: logsMayInvoke(template, fn, logGroupName, env),
    });
  }
  return filters;
}

/** The definition of the template's (only) state machine with tokens resolved for `env`. */
export function workflowFromTemplate(
  template: CfnTemplate,
  env: WorkflowEnv,
  stateMachineLogicalId?: string,
): SynthesizedWorkflow {
  const [logicalId, resource] = stateMachineOf(template, stateMachineLogicalId);
  const props = resource.Properties ?? {};
  const raw = props.DefinitionString;
  if (raw === undefined) {
    throw new DefinitionError(`state machine '${logicalId}' has no DefinitionString`);
  }
  let text = String(resolveTokens(raw, template, env));
  const substitutions = props.DefinitionSubstitutions as Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(substitutions ?? {})) {
    text = text.split(`\${${name}}`).join(String(resolveTokens(value, template, env)));
  }
  let definition: AslDefinition;
  try {
    definition = JSON.parse(text) as AslDefinition;
  } catch (error) {
    throw new DefinitionError(
      `state machine '${logicalId}' definition is not JSON: ${(error as Error).message}`,
    );
  }
  const functions = workflowFunctions(template, env);
  return {
    definition,
    stateMachineLogicalId: logicalId,
    stateMachineArn: fakeArn(template, logicalId, env),
    functions,
    env,
    eventRules: eventRulesOf(template, functions, env),
    scheduledRules: scheduledRulesOf(template, functions, env),
    tables: tablesOf(template),
    subscriptionFilters: subscriptionFiltersOf(template, functions, env),
  };
}

const templates = new Map<string, CfnTemplate>();
const workflows = new Map<string, SynthesizedWorkflow>();

/**
 * Synthesizes the product's stack in-process for one configuration and returns its workflow
 * resolved for `env`. Bundling is skipped (the simulator runs the handlers' TypeScript directly)
 * and so is CDK's built-in template validation (`cdk synth` does that; here it would cost seconds).
 * Templates are cached per configuration and workflows per configuration and env, so the engine
 * validates each definition once. A configuration the stack rejects throws the stack's error.
 */
export async function synthesizeWorkflow(
  config: Readonly<Record<string, unknown>>,
  env: WorkflowEnv,
): Promise<SynthesizedWorkflow> {
  const configKey = JSON.stringify(config);
  const workflowKey = JSON.stringify([configKey, env.account, env.region]);
  const cached = workflows.get(workflowKey);
  if (cached) {
    return cached;
  }
  let template = templates.get(configKey);
  if (!template) {
    const [{ App }, { KmsDeletionGuardStack }] = await Promise.all([
      import('aws-cdk-lib'),
      import('../kms-deletion-guard-stack.js'),
    ]);
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    new KmsDeletionGuardStack(app, 'KmsDeletionGuard', { guard: config as KeyDeletionGuardProps });
    template = app.synth().getStackByName('KmsDeletionGuard').template as CfnTemplate;
    templates.set(configKey, template);
  }
  const workflow = workflowFromTemplate(template, env);
  workflows.set(workflowKey, workflow);
  return workflow;
}

/**
 * The first value, depth first, that `pick` accepts for a field of the definition; the handlers'
 * settings reach the definition only as fields of task payloads, wherever the state sits.
 */
function findInDefinition<T>(
  workflow: SynthesizedWorkflow,
  pick: (field: string, value: unknown) => T | null,
): T | null {
  const search = (value: unknown): T | null => {
    if (Array.isArray(value)) {
      for (const item of value) {
        const found = search(item);
        if (found) return found;
      }
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        const picked = pick(key, item);
        if (picked !== null) return picked;
        const found = search(item);
        if (found) return found;
      }
    }
    return null;
  };
  return search(workflow.definition);
}

/**
 * The CloudTrail log group the workflow reads, as the synthesized definition passes it to the
 * handlers (the emulated account must hold the records under exactly this name).
 */
export function logGroupNameOf(workflow: SynthesizedWorkflow): string | null {
  return findInDefinition(workflow, (field, value) =>
    field === 'cloudTrailLogGroupName' && typeof value === 'string' ? value : null,
  );
}

/**
 * The workflow's own principals (the Lambda roles), as the synthesized definition passes them to
 * AssessKey: the emulated account must act as one of them, or the canaries would look like breakage.
 */
export function workflowPrincipalArnsOf(workflow: SynthesizedWorkflow): string[] {
  const arns = findInDefinition(workflow, (field, value) =>
    field === 'workflowPrincipalArns' && Array.isArray(value)
      ? value.filter((arn): arn is string => typeof arn === 'string')
      : null,
  );
  return arns ?? [];
}
