import {
  type KeyDeletionGuardConfig,
  SWITCH_FIELDS,
  WHOLE_NUMBER_FIELDS,
} from '../lambdas/contracts/config.js';

const CONTEXT_KEY = 'kms-deletion-guard:config';

/**
 * Reads the configuration from CDK context: the `kms-deletion-guard:config` object of cdk.json,
 * overridden field by field by `-c field=value`. Values given with `-c` arrive as strings, so they
 * are converted here; validation proper happens in the construct.
 */
export function readGuardContext(get: (key: string) => unknown): KeyDeletionGuardConfig {
  const base = (get(CONTEXT_KEY) ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = { ...base };
  for (const field of WHOLE_NUMBER_FIELDS) {
    const value = get(field);
    if (value !== undefined)
      config[field] = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  }
  for (const field of SWITCH_FIELDS) {
    const value = get(field);
    if (value !== undefined) config[field] = value === 'true' ? true : value === 'false' ? false : value;
  }
  const emails = get('approvalEmails');
  if (emails !== undefined) {
    config.approvalEmails =
      typeof emails === 'string'
        ? emails
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean)
        : emails;
  }
  const logGroup = get('cloudTrailLogGroupName');
  if (logGroup !== undefined) {
    config.cloudTrailLogGroupName = logGroup;
    if (get('createTrail') === undefined) delete config.createTrail;
  }
  if (config.createTrail === true && get('cloudTrailLogGroupName') === undefined)
    delete config.cloudTrailLogGroupName;
  const tag = get('keyTagCondition');
  if (typeof tag === 'string') {
    const [key, ...value] = tag.split('=');
    config.keyTagCondition = { key, value: value.join('=') };
  } else if (tag !== undefined) {
    config.keyTagCondition = tag;
  }
  return config as KeyDeletionGuardConfig;
}
