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
 * `KDG_CLAIM_SETTLE_MS`: milliseconds between writing a claim and reading it back. Only the
 * simulator sets it (0: it runs one actor at a time); absent or unusable means the claim protocol's
 * own default, so it never fails a function.
 */
const claimSettleMs = /* @__PURE__ */ (() =>
  z.pipe(
    z.optional(z.string()),
    z.transform((raw) => {
      const value = raw === undefined || raw === '' ? Number.NaN : Number(raw);
      return Number.isFinite(value) && value >= 0 ? value : undefined;
    }),
  ))();

/** The restore function: only the claim's settle time. */
export const claimEnvironment = /* @__PURE__ */ (() =>
  z.pipe(
    z.object({ KDG_CLAIM_SETTLE_MS: claimSettleMs }),
    z.transform((env) => ({ claimSettleMs: env.KDG_CLAIM_SETTLE_MS })),
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
      KDG_CLAIM_SETTLE_MS: claimSettleMs,
    }),
    z.transform((env) => ({
      topicArn: env.KDG_TOPIC_ARN,
      stateMachineArn: env.KDG_STATE_MACHINE_ARN,
      /** The prefix of every execution ARN of the state machine. */
      executionPrefix: env.KDG_STATE_MACHINE_ARN.replace(STATE_MACHINE_ARN, '$1execution:$2:'),
      workflowPrincipals: (env.KDG_WORKFLOW_PRINCIPALS ?? '')
        .split(',')
        .map((arn) => arn.trim())
        .filter((arn) => arn.length > 0),
      claimSettleMs: env.KDG_CLAIM_SETTLE_MS,
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

/** The variables the template sets on each function that reads any, by handler folder. */
export interface FunctionEnvironments {
  readonly 'request-approval': Readonly<z.input<typeof requestApprovalEnvironment>>;
  readonly approval: Readonly<z.input<typeof approvalEnvironment>>;
  readonly check: Readonly<z.input<typeof checkEnvironment>>;
  readonly 'fast-path': Readonly<z.input<typeof fastPathEnvironment>>;
  readonly restore: Readonly<z.input<typeof claimEnvironment>>;
  readonly 'alarm-relay': Readonly<z.input<typeof alarmRelayEnvironment>>;
}
