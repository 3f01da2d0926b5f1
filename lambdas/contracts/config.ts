import * as z from 'zod/mini';

/**
 * The stack configuration: what a deployment may set (construct props, or `cdk.json` context), and
 * the part of it the workflow hands AssessKey in every execution. Both are built from the same field
 * schemas, so a value the stack accepts at synth time is one the handler accepts at run time.
 */

/** How long a Standard execution may run (one year), in days. */
export const MAX_EXECUTION_DAYS = 365;

/**
 * The longest an execution can take: both approvals waited out, the observation, the pending window,
 * and a day for the ingestion lag, the final check and the steps between. Step Functions ends a
 * Standard execution after a year with no Catch, which would leave the key disabled with nothing
 * left to restore it, so the stack configuration and each execution's input are held to it.
 */
export function executionDaysNeeded(
  observationDays: number,
  pendingWindowInDays: number,
  approvalTimeoutDays: number,
): number {
  return observationDays + pendingWindowInDays + 2 * approvalTimeoutDays + 1;
}

// The range KMS accepts for PendingWindowInDays.
const PENDING_WINDOW_DAYS = { min: 7, max: 30 } as const;
const APPROVAL_TIMEOUT_DAYS = { min: 1, max: 30 } as const;

/**
 * The whole-number settings: the range each may take and the unit a message about it names.
 * The observation's upper bound is the longest the year of an execution leaves room for beside the
 * shortest pending window and approval timeout: a larger one could never be accepted, so a range
 * that offered it would mislead.
 */
export const WHOLE_NUMBER_SETTINGS = {
  observationDays: {
    min: 1,
    max:
      MAX_EXECUTION_DAYS -
      /* @__PURE__ */ executionDaysNeeded(0, PENDING_WINDOW_DAYS.min, APPROVAL_TIMEOUT_DAYS.min),
    unit: 'days',
  },
  checkIntervalHours: { min: 1, max: 24, unit: 'hours' },
  ingestionLagMinutes: { min: 5, max: 720, unit: 'minutes' },
  minIdleDays: { min: 0, max: 3650, unit: 'days' },
  approvalTimeoutDays: { ...APPROVAL_TIMEOUT_DAYS, unit: 'days' },
  pendingWindowInDays: {
    ...PENDING_WINDOW_DAYS,
    unit: 'days (the range KMS accepts for PendingWindowInDays)',
  },
  sweepIntervalMinutes: { min: 15, max: 360, unit: 'minutes' },
} as const;
export type WholeNumberSetting = keyof typeof WHOLE_NUMBER_SETTINGS;
export const WHOLE_NUMBER_FIELDS = /* @__PURE__ */ Object.keys(WHOLE_NUMBER_SETTINGS) as WholeNumberSetting[];

/** The on/off settings. */
export const SWITCH_FIELDS = [
  'createTrail',
  'watchPendingWindow',
  'fastRollback',
  'sweep',
  'sweepSubscription',
] as const;

export const CONFIG_DEFAULTS = {
  approvalEmails: [] as readonly string[],
  approvers: [] as readonly string[],
  createTrail: false,
  observationDays: 30,
  checkIntervalHours: 6,
  ingestionLagMinutes: 30,
  minIdleDays: 90,
  approvalTimeoutDays: 7,
  pendingWindowInDays: 30,
  watchPendingWindow: true,
  fastRollback: true,
  sweep: false,
  sweepSubscription: false,
  sweepIntervalMinutes: 60,
} as const;

// Deliberately simple: SNS itself confirms the address; this only catches typos such as a missing @.
const EMAIL = /^[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;]+$/;
/**
 * An approver: an e-mail address, or the ARN of an IAM user, role, role session or account root
 * (lambdas/domain/decider.ts says what each names).
 */
export const APPROVER =
  /^(?:[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;]+|arn:aws(?:-[a-z]+)*:(?:iam::\d{12}:(?:user|role)\/[\w+=,.@/-]+|iam::\d{12}:root|sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+))$/;
// CloudWatch Logs log group names: 1-512 of [.-_/#A-Za-z0-9].
const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;

/**
 * Tag keys and values as KMS TagResource accepts them: Unicode letters, digits and spaces, and
 * `_ . : / = + - @`; a key has 1 to 128 characters and must not start with `aws:` (AWS keeps that
 * prefix, in any case), a value at most 256.
 */
export const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;

/** True for a tag key AWS keeps for itself (`aws:` in any case). */
export function isReservedTagKey(key: string): boolean {
  return key.toLowerCase().startsWith('aws:');
}

/** The schema of a whole-number setting: an integer within its range. */
export function wholeNumber(setting: WholeNumberSetting) {
  const { min, max } = WHOLE_NUMBER_SETTINGS[setting];
  return z.number().check(z.int(), z.minimum(min), z.maximum(max));
}

// Each schema is built once, at import, in a form the bundler may leave out of a handler that does
// not parse it: esbuild keeps every top-level call it cannot prove free of side effects.

const logGroupName = /* @__PURE__ */ (() => z.string().check(z.regex(LOG_GROUP_NAME)))();

/** Only keys carrying this tag may be disabled or deleted; enforced in IAM as well. */
const keyTagCondition = /* @__PURE__ */ (() =>
  z.strictObject({
    /** Tag key, e.g. `deletion-candidate` (not `aws:`). */
    key: z.string().check(
      z.minLength(1),
      z.maxLength(MAX_TAG_KEY_LENGTH),
      z.regex(TAG_TEXT),
      z.refine((key) => key.trim() !== '' && !isReservedTagKey(key)),
    ),
    /**
     * Required tag value, e.g. `true`. KMS allows an empty (or blank) tag value, but as a condition
     * it is almost always a `key=value` whose value was left out, and it would admit only keys that
     * carry the tag with no value: refused, so the IAM condition always names a value someone chose.
     */
    value: z.string().check(
      z.maxLength(MAX_TAG_VALUE_LENGTH),
      z.regex(TAG_TEXT),
      z.refine((value) => value.trim() !== ''),
    ),
  }))();
export type KeyTagCondition = Readonly<z.output<typeof keyTagCondition>>;

/** The watch's whole-number settings, as a deployment sets them and as AssessKey receives them. */
const wholeNumbers = /* @__PURE__ */ (() => ({
  /**
   * Days the key stays disabled and watched before deletion can be approved (1–355, default 30;
   * see executionDaysNeeded for the year the whole execution must fit in).
   */
  observationDays: wholeNumber('observationDays'),
  /** Hours between two breakage checks (1–24, default 6). */
  checkIntervalHours: wholeNumber('checkIntervalHours'),
  /**
   * Minutes CloudTrail may take to deliver a record to CloudWatch Logs; every query window overlaps
   * the previous one by this much, and the final check waits this long after the observation
   * (5–720, default 30).
   */
  ingestionLagMinutes: wholeNumber('ingestionLagMinutes'),
  /** A key used within this many days is refused (0–3650, default 90). */
  minIdleDays: wholeNumber('minIdleDays'),
  /** Days an approval request waits for an answer before the execution ends (1–30, default 7). */
  approvalTimeoutDays: wholeNumber('approvalTimeoutDays'),
  /** Default waiting period of `ScheduleKeyDeletion` (7–30, as KMS allows; default 30). */
  pendingWindowInDays: wholeNumber('pendingWindowInDays'),
}))();

/** Everything a deployment may set; each field is optional and has a default (CONFIG_DEFAULTS). */
export const stackConfigSchema = /* @__PURE__ */ (() =>
  z.partial(
    z.strictObject({
      /** E-mail addresses subscribed to the approval and evidence topic (default: none; answer with the CLI). */
      approvalEmails: z.readonly(z.array(z.string().check(z.regex(EMAIL)))),
      /**
       * Who may decide where the decider is known (default: none, anyone who can reach a decision):
       * e-mail addresses or IAM principal ARNs. The CLI checks the caller's IAM identity against it;
       * the approval page, which verifies no identity, then decides nothing.
       */
      approvers: z.readonly(z.array(z.string().check(z.regex(APPROVER)))),
      /**
       * Name of an existing CloudWatch Logs log group that receives the account's CloudTrail events.
       * Exactly one of `cloudTrailLogGroupName` and `createTrail` must be given.
       */
      cloudTrailLogGroupName: logGroupName,
      /** Create a multi-Region trail that delivers into a new log group (default false). */
      createTrail: z.boolean(),
      ...wholeNumbers,
      /** Keep watching CloudTrail during the pending window and cancel the deletion on any use (default true). */
      watchPendingWindow: z.boolean(),
      /** React to KMS CloudTrail events on EventBridge within minutes, the fast path (default true). */
      fastRollback: z.boolean(),
      /**
       * One search of the log group per interval for every held key (the sweep), instead of each
       * key's checks searching on their own (default false). For accounts that hold many keys at once
       * or whose trail is busy: its cost grows with the trail's records, not with the keys held.
       */
      sweep: z.boolean(),
      /**
       * With `sweep`: receive the failed calls from a subscription of the log group, as CloudWatch Logs
       * ingests them, instead of searching the group every interval (default false). Nothing is read
       * twice to find a late record; it takes one of the log group's two subscription slots.
       */
      sweepSubscription: z.boolean(),
      /** Minutes between two sweeps, with `sweep` (15–360, default 60). */
      sweepIntervalMinutes: wholeNumber('sweepIntervalMinutes'),
      /**
       * Only keys carrying this tag may be disabled or deleted (checked by the workflow and in IAM).
       * Default: any customer-managed key of the account.
       */
      keyTagCondition: z.readonly(keyTagCondition),
    }),
  ))();

/** The stack configuration as a deployment writes it (construct props, `cdk.json` context). */
export type KeyDeletionGuardConfig = Readonly<z.input<typeof stackConfigSchema>>;
export type StackConfigField = keyof KeyDeletionGuardConfig;

/** The stack configuration as AssessKey receives it (the `config` of its event), already validated at synth. */
export const guardConfigSchema = /* @__PURE__ */ (() =>
  z.object({
    cloudTrailLogGroupName: logGroupName,
    ...wholeNumbers,
    watchPendingWindow: z.boolean(),
    keyTagCondition: z.optional(
      z.pipe(
        z.nullable(keyTagCondition),
        z.transform((condition) => condition ?? undefined),
      ),
    ),
    /**
     * The IAM roles the workflow's Lambdas run as: CloudTrail records of their calls (the canary's
     * failures) are never breakage evidence.
     */
    workflowPrincipalArns: z.optional(z.array(z.string().check(z.startsWith('arn:')))),
  }))();

/** Stack configuration as the workflow sees it, already validated. */
export type GuardConfig = Readonly<z.output<typeof guardConfigSchema>>;

/** The settings of a resolved stack configuration that travel to AssessKey. */
export type WatchSettings = Pick<
  GuardConfig,
  Exclude<WholeNumberSetting, 'sweepIntervalMinutes'> | 'watchPendingWindow'
> & {
  readonly keyTagCondition?: KeyTagCondition | undefined;
};

/**
 * The `config` the workflow's AssessKey task passes: the resolved stack configuration, the log group
 * the checks read, and the roles whose CloudTrail records are the workflow's own (its canaries).
 */
export function guardConfigPayload(
  config: WatchSettings,
  cloudTrailLogGroupName: string,
  workflowPrincipalArns: readonly string[],
): z.input<typeof guardConfigSchema> {
  return {
    cloudTrailLogGroupName,
    observationDays: config.observationDays,
    checkIntervalHours: config.checkIntervalHours,
    ingestionLagMinutes: config.ingestionLagMinutes,
    minIdleDays: config.minIdleDays,
    approvalTimeoutDays: config.approvalTimeoutDays,
    pendingWindowInDays: config.pendingWindowInDays,
    watchPendingWindow: config.watchPendingWindow,
    ...(config.keyTagCondition ? { keyTagCondition: config.keyTagCondition } : {}),
    workflowPrincipalArns: [...workflowPrincipalArns],
  };
}
