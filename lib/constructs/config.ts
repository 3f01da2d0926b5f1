/**
 * The stack configuration (DESIGN §3), its defaults and its validation.
 *
 * Validation happens at synth time, before anything is deployed, so a wrong value never reaches
 * an account. Every message says what was received and what to do.
 */

/** Only keys carrying this tag may be disabled or deleted; enforced in IAM as well. */
export interface KeyTagCondition {
  /** Tag key, e.g. `deletion-candidate`. */
  readonly key: string;
  /** Required tag value, e.g. `true`. */
  readonly value: string;
}

export interface KeyDeletionGuardConfig {
  /**
   * E-mail addresses subscribed to the approval and evidence topic.
   * @default [] (subscribe later, or answer approvals with the CLI)
   */
  readonly approvalEmails?: readonly string[];
  /**
   * Name of an existing CloudWatch Logs log group that receives the account's CloudTrail events.
   * Exactly one of `cloudTrailLogGroupName` and `createTrail` must be given.
   * @default none
   */
  readonly cloudTrailLogGroupName?: string;
  /**
   * Create a multi-Region trail that delivers into a new log group.
   * @default false
   */
  readonly createTrail?: boolean;
  /**
   * Days the key stays disabled and watched before deletion can be approved (1–365).
   * @default 30
   */
  readonly observationDays?: number;
  /**
   * Hours between two breakage checks (1–24).
   * @default 6
   */
  readonly checkIntervalHours?: number;
  /**
   * Minutes CloudTrail may take to deliver a record to CloudWatch Logs; every query window overlaps
   * the previous one by this much, and the final check waits this long after the observation (5–720).
   * @default 30
   */
  readonly ingestionLagMinutes?: number;
  /**
   * A key used within this many days is refused (0–3650).
   * @default 90
   */
  readonly minIdleDays?: number;
  /**
   * Days an approval request waits for an answer before the execution ends (1–30).
   * @default 7
   */
  readonly approvalTimeoutDays?: number;
  /**
   * Default waiting period of `ScheduleKeyDeletion` (7–30, as KMS allows).
   * @default 30
   */
  readonly pendingWindowInDays?: number;
  /**
   * Keep watching CloudTrail during the pending window and cancel the deletion on any use.
   * @default true
   */
  readonly watchPendingWindow?: boolean;
  /**
   * React to KMS CloudTrail events on EventBridge within minutes (the fast path).
   * @default true
   */
  readonly fastRollback?: boolean;
  /**
   * Only keys carrying this tag may be disabled or deleted (checked by the workflow and in IAM).
   * @default none: any customer-managed key of the account
   */
  readonly keyTagCondition?: KeyTagCondition;
}

export type ResolvedGuardConfig = Required<
  Omit<KeyDeletionGuardConfig, 'keyTagCondition' | 'cloudTrailLogGroupName'>
> & {
  readonly cloudTrailLogGroupName?: string;
  readonly keyTagCondition?: KeyTagCondition;
};

export const CONFIG_DEFAULTS = {
  approvalEmails: [] as readonly string[],
  createTrail: false,
  observationDays: 30,
  checkIntervalHours: 6,
  ingestionLagMinutes: 30,
  minIdleDays: 90,
  approvalTimeoutDays: 7,
  pendingWindowInDays: 30,
  watchPendingWindow: true,
  fastRollback: true,
} as const;

/** Raised at synth time for a configuration that cannot work. */
export class KeyDeletionGuardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyDeletionGuardConfigError';
  }
}

const INTEGER_RANGES: Record<string, readonly [number, number, string]> = {
  observationDays: [1, 365, 'days'],
  checkIntervalHours: [1, 24, 'hours'],
  ingestionLagMinutes: [5, 720, 'minutes'],
  minIdleDays: [0, 3650, 'days'],
  approvalTimeoutDays: [1, 30, 'days'],
  pendingWindowInDays: [7, 30, 'days (the range KMS accepts for PendingWindowInDays)'],
};

const KNOWN_FIELDS = new Set([
  'approvalEmails',
  'cloudTrailLogGroupName',
  'createTrail',
  'keyTagCondition',
  'watchPendingWindow',
  'fastRollback',
  ...Object.keys(INTEGER_RANGES),
]);

// Deliberately simple: SNS itself confirms the address; this only catches typos such as a missing @.
const EMAIL = /^[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;]+$/;
// CloudWatch Logs log group names: 1-512 of [.-_/#A-Za-z0-9].
const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
// Tag keys and values as KMS TagResource accepts them.
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Validates a raw configuration (construct props or `cdk.json` context) and fills in the defaults.
 * @throws KeyDeletionGuardConfigError naming the field, the value received and the fix.
 */
export function resolveGuardConfig(raw: unknown): ResolvedGuardConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new KeyDeletionGuardConfigError(
      `The kms-deletion-guard configuration must be an object; received ${show(raw)}.`,
    );
  }
  const config = raw as Record<string, unknown>;
  for (const field of Object.keys(config)) {
    if (!KNOWN_FIELDS.has(field)) {
      throw new KeyDeletionGuardConfigError(
        `Unknown configuration field "${field}". Known fields: ${[...KNOWN_FIELDS].sort().join(', ')}.`,
      );
    }
  }

  const integers: Record<string, number> = {};
  for (const [field, [min, max, unit]] of Object.entries(INTEGER_RANGES)) {
    const value = config[field] ?? CONFIG_DEFAULTS[field as keyof typeof CONFIG_DEFAULTS];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new KeyDeletionGuardConfigError(
        `${field} must be a whole number of ${unit} from ${min} to ${max}; received ${show(value)}.`,
      );
    }
    integers[field] = value;
  }

  for (const field of ['createTrail', 'watchPendingWindow', 'fastRollback'] as const) {
    if (config[field] !== undefined && typeof config[field] !== 'boolean') {
      throw new KeyDeletionGuardConfigError(
        `${field} must be true or false; received ${show(config[field])}.`,
      );
    }
  }

  const emails = config.approvalEmails ?? [];
  if (!Array.isArray(emails) || emails.some((e) => typeof e !== 'string' || !EMAIL.test(e))) {
    throw new KeyDeletionGuardConfigError(
      `approvalEmails must be a list of e-mail addresses such as ["ops@example.com"]; received ${show(emails)}.`,
    );
  }

  const createTrail = config.createTrail === true;
  const logGroupName = config.cloudTrailLogGroupName;
  if (
    logGroupName !== undefined &&
    (typeof logGroupName !== 'string' || !LOG_GROUP_NAME.test(logGroupName))
  ) {
    throw new KeyDeletionGuardConfigError(
      `cloudTrailLogGroupName must be a CloudWatch Logs log group name (letters, digits and . - _ / #); received ${show(logGroupName)}.`,
    );
  }
  if (createTrail === (logGroupName !== undefined)) {
    throw new KeyDeletionGuardConfigError(
      createTrail
        ? `Give either cloudTrailLogGroupName (${show(logGroupName)}) or createTrail: true, not both.`
        : 'No CloudTrail source: set cloudTrailLogGroupName to the log group that receives your trail ' +
            '(e.g. -c cloudTrailLogGroupName=aws-cloudtrail-logs-111122223333) or set createTrail: true to create one. ' +
            'Without it the workflow could not see a DisabledException and would be blind.',
    );
  }

  const condition = config.keyTagCondition;
  if (condition !== undefined) {
    const c = condition as Record<string, unknown>;
    if (
      typeof condition !== 'object' ||
      condition === null ||
      typeof c.key !== 'string' ||
      typeof c.value !== 'string' ||
      c.key.length === 0 ||
      c.key.length > 128 ||
      c.value.length > 256 ||
      !TAG_TEXT.test(c.key) ||
      !TAG_TEXT.test(c.value) ||
      c.key.startsWith('aws:')
    ) {
      throw new KeyDeletionGuardConfigError(
        `keyTagCondition must be { "key": "<tag key>", "value": "<tag value>" } with a valid KMS tag key (not aws:) and value; received ${show(condition)}.`,
      );
    }
  }

  // Mirrors executionDaysNeeded (lambdas/domain/input.ts), which applies it to each execution's own
  // input: Step Functions ends a Standard execution after a year, with no Catch to restore the key.
  const executionDays =
    (integers.observationDays as number) +
    (integers.pendingWindowInDays as number) +
    2 * (integers.approvalTimeoutDays as number) +
    1;
  if (executionDays > 365) {
    throw new KeyDeletionGuardConfigError(
      `observationDays (${integers.observationDays}) + pendingWindowInDays (${integers.pendingWindowInDays}) + ` +
        `2 x approvalTimeoutDays (${integers.approvalTimeoutDays}) + 1 is ${executionDays} days, more than the 365 ` +
        'days a Step Functions execution may run; shorten the observation, the pending window or the approval timeout.',
    );
  }

  return {
    approvalEmails: emails as string[],
    createTrail,
    watchPendingWindow: config.watchPendingWindow !== false,
    fastRollback: config.fastRollback !== false,
    observationDays: integers.observationDays as number,
    checkIntervalHours: integers.checkIntervalHours as number,
    ingestionLagMinutes: integers.ingestionLagMinutes as number,
    minIdleDays: integers.minIdleDays as number,
    approvalTimeoutDays: integers.approvalTimeoutDays as number,
    pendingWindowInDays: integers.pendingWindowInDays as number,
    ...(typeof logGroupName === 'string' ? { cloudTrailLogGroupName: logGroupName } : {}),
    ...(condition ? { keyTagCondition: condition as KeyTagCondition } : {}),
  };
}
