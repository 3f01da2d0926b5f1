import * as z from 'zod/mini';

/**
 * What the template puts in each function's environment (names and ARNs of the stack's own
 * resources), as the schema the function reads it with; the construct types each function's
 * environment from the same schema (FunctionEnvironments).
 */

/** Names each function's handler folder, so the simulator can map a function of the template to its code. */
export const HANDLER_VARIABLE = 'KDG_HANDLER';

/** `arn:aws:states:<region>:<account>:stateMachine:<name>`, in two parts: before `stateMachine:`, and the name. */
const STATE_MACHINE_ARN = /^(arn:[^:]+:states:[^:]+:\d{12}:)stateMachine:(.+)$/;

// Each schema is built once, at import, in a form the bundler may leave out of a handler that does
// not read it: esbuild keeps every top-level call it cannot prove free of side effects.

const setting = /* @__PURE__ */ (() => z.string().check(z.minLength(1)))();

/**
 * `KDG_HOLD_TABLE`: the hold registry (lambdas/contracts/hold-registry.ts), read by every function
 * that takes, watches or gives back a hold.
 */
export const holdRegistryEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({ KDG_HOLD_TABLE: setting }),
    z.transform((env) => ({ tableName: env.KDG_HOLD_TABLE })),
  ))();

/** The check function: where the watch's chain creates its one-time schedules, and the role they run as. */
export const checkEnvironment = /* @__PURE__ */ (() =>
  z.object({ KDG_SCHEDULE_GROUP: setting, KDG_SCHEDULER_ROLE_ARN: setting }))();

/**
 * The fast path: the topic of the evidence e-mail, the state machine whose running executions it
 * serves, and the workflow's own roles (comma-separated), whose calls (the canary) are never evidence.
 */
export const fastPathEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      KDG_TOPIC_ARN: setting,
      KDG_STATE_MACHINE_ARN: z.string().check(z.regex(STATE_MACHINE_ARN)),
      KDG_WORKFLOW_PRINCIPALS: z.optional(z.string()),
    }),
    z.transform((env) => ({
      topicArn: env.KDG_TOPIC_ARN,
      stateMachineArn: env.KDG_STATE_MACHINE_ARN,
      /** The prefix of every execution ARN of the state machine. */
      executionPrefix: env.KDG_STATE_MACHINE_ARN.replace(STATE_MACHINE_ARN, '$1execution:$2:'),
      workflowPrincipals: principalsOf(env.KDG_WORKFLOW_PRINCIPALS),
    })),
  ))();

/** The alarm relay: the topic it publishes the stack's alarms to. */
export const alarmRelayEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({ KDG_TOPIC_ARN: setting }),
    z.transform((env) => ({ topicArn: env.KDG_TOPIC_ARN })),
  ))();

/**
 * The request-approval function: the topic of the approval e-mails, the approval page the links lead
 * to, and the link store it writes each link's record to.
 */
export const requestApprovalEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      KDG_APPROVAL_TOPIC_ARN: setting,
      KDG_APPROVAL_URL: z.string().check(z.startsWith('https://')),
      KDG_APPROVAL_LINKS_TABLE: setting,
    }),
    z.transform((env) => ({
      topicArn: env.KDG_APPROVAL_TOPIC_ARN,
      pageUrl: env.KDG_APPROVAL_URL,
      linksTable: env.KDG_APPROVAL_LINKS_TABLE,
    })),
  ))();

/** The approval page: the link store it turns a link's secret into the task token with. */
export const approvalEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({ KDG_APPROVAL_LINKS_TABLE: setting }),
    z.transform((env) => ({ linksTable: env.KDG_APPROVAL_LINKS_TABLE })),
  ))();

const seconds = /* @__PURE__ */ (() => z.string().check(z.regex(/^[1-9]\d{0,6}$/)))();

/**
 * The sweep: the log group it searches once per interval for every held key, the ingestion lag
 * (its search starts that long before each hold's disable), how often a new sweep starts, and the
 * workflow's own roles (their records are the canaries, kept apart from the evidence).
 */
export const sweepEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      KDG_LOG_GROUP: setting,
      KDG_INGESTION_LAG_SECONDS: seconds,
      KDG_SWEEP_INTERVAL_SECONDS: seconds,
      KDG_WORKFLOW_PRINCIPALS: z.optional(z.string()),
    }),
    z.transform((env) => ({
      logGroupName: env.KDG_LOG_GROUP,
      lagSeconds: Number(env.KDG_INGESTION_LAG_SECONDS),
      intervalSeconds: Number(env.KDG_SWEEP_INTERVAL_SECONDS),
      workflowPrincipals: principalsOf(env.KDG_WORKFLOW_PRINCIPALS),
    })),
  ))();

/**
 * The checks of a stack with a sweep: they read the sweep's sightings instead of searching, and
 * fail on sightings older than this (the sweep has stopped or fell behind). Unset: each check searches.
 * `KDG_SWEEP_SOURCE` says where the sightings come from: the sweep's searches (`search`, the
 * default), or the log group's subscription, whose proof is one item (lambdas/domain/stream.ts).
 */
export const checkSweepEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      KDG_SWEEP_MAX_AGE_SECONDS: z.optional(seconds),
      KDG_SWEEP_SOURCE: z.optional(z.enum(['search', 'subscription'])),
    }),
    z.transform((env) => ({
      sweepMaxAgeMs:
        env.KDG_SWEEP_MAX_AGE_SECONDS === undefined ? null : Number(env.KDG_SWEEP_MAX_AGE_SECONDS) * 1000,
      sweepSource: env.KDG_SWEEP_SOURCE ?? 'search',
    })),
  ))();

/** The workflow's own roles, comma-separated: their records are the canaries, never evidence. */
function principalsOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((arn) => arn.trim())
    .filter((arn) => arn.length > 0);
}

/**
 * The subscription's receiver (lambdas/deliveries/): the ingestion lag (each hold's records count
 * from that long before its disable, as a search's would) and the workflow's own roles.
 */
export const deliveriesEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({ KDG_INGESTION_LAG_SECONDS: seconds, KDG_WORKFLOW_PRINCIPALS: z.optional(z.string()) }),
    z.transform((env) => ({
      lagSeconds: Number(env.KDG_INGESTION_LAG_SECONDS),
      workflowPrincipals: principalsOf(env.KDG_WORKFLOW_PRINCIPALS),
    })),
  ))();

/**
 * The proof of the subscription's deliveries (lambdas/delivery-proof/): the log group and its
 * subscription filter, and the receiver whose delivery metrics it reads.
 */
export const deliveryProofEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({
      KDG_LOG_GROUP: setting,
      KDG_SUBSCRIPTION_FILTER: setting,
      KDG_DELIVERIES_FUNCTION: setting,
      KDG_DELIVERIES_FUNCTION_ARN: z.string().check(z.startsWith('arn:')),
    }),
    z.transform((env) => ({
      logGroupName: env.KDG_LOG_GROUP,
      filterName: env.KDG_SUBSCRIPTION_FILTER,
      deliveriesFunctionName: env.KDG_DELIVERIES_FUNCTION,
      deliveriesFunctionArn: env.KDG_DELIVERIES_FUNCTION_ARN,
    })),
  ))();

type HoldRegistryVariables = Readonly<z.input<typeof holdRegistryEnvironment>>;

/** The variables the template sets on each function that reads any, by handler folder. */
export interface FunctionEnvironments {
  readonly 'request-approval': Readonly<z.input<typeof requestApprovalEnvironment>>;
  readonly approval: Readonly<z.input<typeof approvalEnvironment>>;
  readonly assess: HoldRegistryVariables;
  readonly disable: HoldRegistryVariables;
  readonly check: Readonly<z.input<typeof checkEnvironment>> &
    Readonly<z.input<typeof checkSweepEnvironment>> &
    HoldRegistryVariables;
  readonly sweep: Readonly<z.input<typeof sweepEnvironment>> & HoldRegistryVariables;
  readonly deliveries: Readonly<z.input<typeof deliveriesEnvironment>> & HoldRegistryVariables;
  readonly 'delivery-proof': Readonly<z.input<typeof deliveryProofEnvironment>> & HoldRegistryVariables;
  readonly 'schedule-deletion': HoldRegistryVariables & Readonly<z.input<typeof checkSweepEnvironment>>;
  readonly 'fast-path': Readonly<z.input<typeof fastPathEnvironment>> & HoldRegistryVariables;
  readonly restore: HoldRegistryVariables;
  readonly 'alarm-relay': Readonly<z.input<typeof alarmRelayEnvironment>>;
}
