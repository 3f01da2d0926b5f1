import {
  type KeyDeletionGuardConfig,
  SWITCH_FIELDS,
  WHOLE_NUMBER_FIELDS,
} from '../lambdas/contracts/config.js';
import { CONFIG_FIELDS, didYouMean, KeyDeletionGuardConfigError, show } from './constructs/config.js';

/** The context key of the whole configuration object in cdk.json. */
export const CONTEXT_KEY = 'kms-deletion-guard:config';
const CONTEXT_NAMESPACE = 'kms-deletion-guard:';

// A number as `-c` writes one; anything else stays text, so the error quotes what was typed.
const NUMBER_TEXT = /^\s*-?\d+(\.\d+)?\s*$/;

/**
 * How close a top-level context key must be to a configuration field to be taken for a misspelling
 * of it. CDK context is shared: it also holds CDK's feature flags (`@aws-cdk/...`), the CLI's own
 * settings (`aws:cdk:...`, `cdk-...`), cached lookups (`availability-zones:account=...`) and other
 * libraries' keys, none of which this app may refuse. So a key is flagged only when it is not
 * namespaced (no `@` prefix, no `:` or `/`, not `cdk-`) and is at most two edits from a field once
 * case and separators are ignored (`obsrvationDays`, `ObservationDays`, `observation-days`). The
 * fields are long camel-case words, so an unrelated key that close is very unlikely, while a typo
 * that slipped through would silently leave a default in force.
 */
const TOP_LEVEL_TYPO_DISTANCE = 2;

function belongsToOthers(key: string): boolean {
  return (
    key.startsWith('@') || key.includes(':') || key.includes('/') || key.toLowerCase().startsWith('cdk-')
  );
}

/** Refuses top-level context keys that look like a misspelt field or a misspelt configuration key. */
function checkTopLevelKeys(keys: Iterable<string>): void {
  for (const key of keys) {
    if (key === CONTEXT_KEY || (CONFIG_FIELDS as string[]).includes(key)) continue;
    if (key.startsWith(CONTEXT_NAMESPACE)) {
      throw new KeyDeletionGuardConfigError(
        `Unknown context key ${show(key)}: the only kms-deletion-guard key is "${CONTEXT_KEY}" ` +
          '(one object with the configuration fields), or give a field alone with -c <field>=<value>.',
      );
    }
    if (belongsToOthers(key)) continue;
    const hint = didYouMean(key, CONFIG_FIELDS, TOP_LEVEL_TYPO_DISTANCE);
    if (hint !== '') {
      throw new KeyDeletionGuardConfigError(
        `Unknown context key ${show(key)} (from -c or the context of cdk.json).${hint} ` +
          `Configuration fields: ${[...CONFIG_FIELDS].sort().join(', ')}.`,
      );
    }
  }
}

/** `-c keyTagCondition=<key>=<value>`: split at the first `=`, both parts required. */
function tagConditionFromText(text: string): { readonly key: string; readonly value: string } {
  const split = text.indexOf('=');
  const key = split < 0 ? text : text.slice(0, split);
  const value = split < 0 ? '' : text.slice(split + 1);
  if (key.trim() === '' || value.trim() === '') {
    throw new KeyDeletionGuardConfigError(
      `keyTagCondition must be <tag key>=<tag value> with both parts non-empty, e.g. -c keyTagCondition=deletion-candidate=true; ` +
        `received ${show(text)}${value.trim() === '' && key.trim() !== '' ? ' (no value: a condition on an empty tag value would admit only keys tagged with nothing)' : ''}.`,
    );
  }
  return { key, value };
}

/**
 * Reads the configuration from CDK context: the `kms-deletion-guard:config` object of cdk.json,
 * overridden field by field by `-c field=value`. Values given with `-c` arrive as strings, so they
 * are converted here; validation proper happens in the construct. `contextKeys`, every top-level
 * context key, lets a misspelt `-c` field fail here instead of being ignored.
 * @throws KeyDeletionGuardConfigError for a misspelt key, a configuration object that is not an
 *   object, or a `-c keyTagCondition` that is not `<key>=<value>`.
 */
export function readGuardContext(
  get: (key: string) => unknown,
  contextKeys: Iterable<string> = [],
): KeyDeletionGuardConfig {
  checkTopLevelKeys(contextKeys);
  const base = get(CONTEXT_KEY) ?? {};
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    throw new KeyDeletionGuardConfigError(
      `The context key "${CONTEXT_KEY}" must be an object of configuration fields; received ${show(base)}.`,
    );
  }
  const config: Record<string, unknown> = { ...base };
  for (const field of WHOLE_NUMBER_FIELDS) {
    const value = get(field);
    if (value !== undefined)
      config[field] = typeof value === 'string' && NUMBER_TEXT.test(value) ? Number(value) : value;
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
  const approvers = get('approvers');
  if (approvers !== undefined) {
    // IAM names may hold commas: a comma separates entries only where the next one starts (an ARN or an address).
    config.approvers =
      typeof approvers === 'string'
        ? approvers
            .split(/,(?=\s*(?:arn:|[^,]+@))/)
            .map((e) => e.trim().replace(/,$/, '').trim())
            .filter(Boolean)
        : approvers;
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
    config.keyTagCondition = tagConditionFromText(tag);
  } else if (tag !== undefined) {
    config.keyTagCondition = tag;
  }
  return config as KeyDeletionGuardConfig;
}
