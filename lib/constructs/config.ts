import {
  CONFIG_DEFAULTS,
  executionDaysNeeded,
  type KeyDeletionGuardConfig,
  type KeyTagCondition,
  MAX_EXECUTION_DAYS,
  type StackConfigField,
  SWITCH_FIELDS,
  stackConfigSchema,
  WHOLE_NUMBER_FIELDS,
  WHOLE_NUMBER_SETTINGS,
  type WholeNumberSetting,
} from '../../lambdas/contracts/config.js';

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

/** Raised at synth time for a configuration that cannot work. */
export class KeyDeletionGuardConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyDeletionGuardConfigError';
  }
}

const KNOWN_FIELDS = Object.keys(stackConfigSchema.shape) as StackConfigField[];

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
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
    if (!(KNOWN_FIELDS as string[]).includes(field)) {
      throw new KeyDeletionGuardConfigError(
        `Unknown configuration field "${field}". Known fields: ${[...KNOWN_FIELDS].sort().join(', ')}.`,
      );
    }
  }

  const integers = {} as Record<WholeNumberSetting, number>;
  for (const field of WHOLE_NUMBER_FIELDS) {
    const { min, max, unit } = WHOLE_NUMBER_SETTINGS[field];
    const value = config[field] ?? CONFIG_DEFAULTS[field];
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

  const emails = config.approvalEmails ?? [];
  if (!fits('approvalEmails', emails)) {
    throw new KeyDeletionGuardConfigError(
      `approvalEmails must be a list of e-mail addresses such as ["ops@example.com"]; received ${show(emails)}.`,
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
      `keyTagCondition must be { "key": "<tag key>", "value": "<tag value>" } with a valid KMS tag key (not aws:) and value; received ${show(condition)}.`,
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
    createTrail,
    watchPendingWindow: config.watchPendingWindow !== false,
    fastRollback: config.fastRollback !== false,
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
