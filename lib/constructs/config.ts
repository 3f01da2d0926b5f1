import {
  CONFIG_DEFAULTS,
  executionDaysNeeded,
  isReservedTagKey,
  type KeyDeletionGuardConfig,
  type KeyTagCondition,
  MAX_EXECUTION_DAYS,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  type StackConfigField,
  SWITCH_FIELDS,
  stackConfigSchema,
  TAG_TEXT,
  WHOLE_NUMBER_FIELDS,
  WHOLE_NUMBER_SETTINGS,
  type WholeNumberSetting,
} from '../../lambdas/contracts/config.js';
import { STREAM_PROOF_LAG_MS } from '../../lambdas/domain/stream.js';
import { nearestName, suggestionDistance } from '../nearest-name.js';

/**
 * The stack configuration's validation at synth time, before anything is deployed, so a wrong value
 * never reaches an account. What each field may hold is the schema of lambdas/contracts/config.ts,
 * which AssessKey checks its event with too; this module says, for the first field that breaks it,
 * what was received and what to do.
 */

export { CONFIG_DEFAULTS, type KeyDeletionGuardConfig, type KeyTagCondition };

export type ResolvedGuardConfig = Required<
  Omit<KeyDeletionGuardConfig, 'keyTagCondition' | 'cloudTrailLogGroupName'>
> & {
  readonly cloudTrailLogGroupName?: string;
  readonly keyTagCondition?: KeyTagCondition;
};

/**
 * Raised at synth time for a configuration that cannot work. The message is one line that names the
 * field, the value received and the fix: bin/app.ts prints it alone, without a stack trace.
 */
export class KeyDeletionGuardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyDeletionGuardConfigError';
  }
}

/** Every field a deployment may set, in the order of the schema. */
export const CONFIG_FIELDS = Object.keys(stackConfigSchema.shape) as StackConfigField[];

/** The value as received, quoted when it is text, on one line and cut short. */
export function show(value: unknown): string {
  const text =
    typeof value === 'number' && !Number.isFinite(value)
      ? String(value)
      : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** ` Did you mean "observationDays"?` for a name close to one of `candidates`, else nothing. */
export function didYouMean(
  name: string,
  candidates: readonly string[],
  maxDistance = suggestionDistance(name),
): string {
  const nearest = nearestName(name, candidates, maxDistance);
  return nearest === undefined ? '' : ` Did you mean "${nearest}"?`;
}

/** What is wrong with a tag condition the schema refused, in words. */
function tagConditionProblem(condition: unknown): string {
  if (condition === null || typeof condition !== 'object' || Array.isArray(condition)) {
    return 'it is not an object';
  }
  const { key, value, ...rest } = condition as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) return `it has a field ${show(extra)} besides key and value`;
  if (typeof key !== 'string' || key.trim() === '') return 'the key is missing or empty';
  if (key.length > MAX_TAG_KEY_LENGTH)
    return `the key is longer than the ${MAX_TAG_KEY_LENGTH} characters KMS allows`;
  if (isReservedTagKey(key)) return 'the key starts with aws:, which AWS keeps for its own tags';
  if (!TAG_TEXT.test(key)) return 'the key has characters KMS does not allow in a tag';
  if (typeof value !== 'string' || value.trim() === '') {
    return (
      `the value is missing or empty, so the condition would admit only keys tagged ${show(key)} with no ` +
      'value; give the value the keys to retire carry'
    );
  }
  if (value.length > MAX_TAG_VALUE_LENGTH)
    return `the value is longer than the ${MAX_TAG_VALUE_LENGTH} characters KMS allows`;
  return 'the value has characters KMS does not allow in a tag';
}

/** True when `value` is what the stack configuration's schema allows for `field`. */
function fits(field: StackConfigField, value: unknown): boolean {
  return stackConfigSchema.shape[field].safeParse(value).success;
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
    if (!(CONFIG_FIELDS as string[]).includes(field)) {
      throw new KeyDeletionGuardConfigError(
        `Unknown configuration field ${show(field)}.${didYouMean(field, CONFIG_FIELDS)} ` +
          `Known fields: ${[...CONFIG_FIELDS].sort().join(', ')}.`,
      );
    }
  }

  const integers = {} as Record<WholeNumberSetting, number>;
  for (const field of WHOLE_NUMBER_FIELDS) {
    const { min, max, unit } = WHOLE_NUMBER_SETTINGS[field];
    // Only a missing field takes the default: null is a value, and a wrong one.
    const value = config[field] === undefined ? CONFIG_DEFAULTS[field] : config[field];
    if (!fits(field, value)) {
      throw new KeyDeletionGuardConfigError(
        `${field} must be a whole number of ${unit} from ${min} to ${max}; received ${show(value)}.`,
      );
    }
    integers[field] = value as number;
  }

  for (const field of SWITCH_FIELDS) {
    if (!fits(field, config[field])) {
      throw new KeyDeletionGuardConfigError(
        `${field} must be true or false; received ${show(config[field])}.`,
      );
    }
  }

  const emails = config.approvalEmails === undefined ? [] : config.approvalEmails;
  if (!fits('approvalEmails', emails)) {
    throw new KeyDeletionGuardConfigError(
      `approvalEmails must be a list of e-mail addresses such as ["ops@example.com"]; received ${show(emails)}.`,
    );
  }

  const approvers = config.approvers === undefined ? [] : config.approvers;
  if (!fits('approvers', approvers)) {
    throw new KeyDeletionGuardConfigError(
      'approvers must be a list of e-mail addresses or IAM principal ARNs (user, role, assumed-role session, ' +
        `account root) such as ["arn:aws:iam::111122223333:role/KeyApprovers"]; received ${show(approvers)}.`,
    );
  }

  const createTrail = config.createTrail === true;
  const logGroupName = config.cloudTrailLogGroupName;
  if (!fits('cloudTrailLogGroupName', logGroupName)) {
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
  if (!fits('keyTagCondition', condition)) {
    throw new KeyDeletionGuardConfigError(
      'keyTagCondition must be { "key": "<tag key>", "value": "<tag value>" } with a valid KMS tag key (not aws:) ' +
        `and a non-empty value (with -c: keyTagCondition=<key>=<value>); received ${show(condition)}: ` +
        `${tagConditionProblem(condition)}.`,
    );
  }

  const streamLagMinutes = STREAM_PROOF_LAG_MS / 60_000;
  const maxLag = WHOLE_NUMBER_SETTINGS.ingestionLagMinutes.max - streamLagMinutes;
  if (config.sweepSubscription === true && integers.ingestionLagMinutes > maxLag) {
    throw new KeyDeletionGuardConfigError(
      `With sweepSubscription the workflow waits ingestionLagMinutes and the ${streamLagMinutes} minutes the ` +
        `subscription's deliveries take to be proven: ingestionLagMinutes may be at most ${maxLag}; received ${integers.ingestionLagMinutes}.`,
    );
  }
  if (config.sweepSubscription === true && config.sweep !== true) {
    throw new KeyDeletionGuardConfigError(
      'sweepSubscription is how the sweep reads the log group: set sweep: true with it, or leave sweepSubscription out.',
    );
  }

  // The same limit holds each execution's own input (lambdas/domain/input.ts): Step Functions ends a
  // Standard execution after a year, with no Catch to restore the key.
  const executionDays = executionDaysNeeded(
    integers.observationDays,
    integers.pendingWindowInDays,
    integers.approvalTimeoutDays,
  );
  if (executionDays > MAX_EXECUTION_DAYS) {
    throw new KeyDeletionGuardConfigError(
      `observationDays (${integers.observationDays}) + pendingWindowInDays (${integers.pendingWindowInDays}) + ` +
        `2 x approvalTimeoutDays (${integers.approvalTimeoutDays}) + 1 is ${executionDays} days, more than the ${MAX_EXECUTION_DAYS} ` +
        'days a Step Functions execution may run; shorten the observation, the pending window or the approval timeout.',
    );
  }

  return {
    approvalEmails: emails as string[],
    approvers: approvers as string[],
    createTrail,
    watchPendingWindow: config.watchPendingWindow !== false,
    fastRollback: config.fastRollback !== false,
    sweep: config.sweep === true,
    sweepSubscription: config.sweepSubscription === true,
    sweepIntervalMinutes: integers.sweepIntervalMinutes,
    observationDays: integers.observationDays,
    checkIntervalHours: integers.checkIntervalHours,
    ingestionLagMinutes: integers.ingestionLagMinutes,
    minIdleDays: integers.minIdleDays,
    approvalTimeoutDays: integers.approvalTimeoutDays,
    pendingWindowInDays: integers.pendingWindowInDays,
    ...(typeof logGroupName === 'string' ? { cloudTrailLogGroupName: logGroupName } : {}),
    ...(condition ? { keyTagCondition: condition as KeyTagCondition } : {}),
  };
}
