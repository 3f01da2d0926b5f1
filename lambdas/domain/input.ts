import * as z from 'zod/mini';
import {
  executionDaysNeeded,
  MAX_EXECUTION_DAYS,
  WHOLE_NUMBER_SETTINGS,
  wholeNumber,
} from '../contracts/config.js';
import { InvalidInputError, KeyIdError } from './errors.js';
import { parseKeyId } from './key-id.js';
import type { ExecutionRequest, GuardConfig } from './types.js';
import { hasControlCharacter, quoteUntrusted } from './untrusted.js';

/**
 * Execution input validation: `keyId` is required, every other field defaults to the stack
 * configuration.
 *
 * The input is typed by a person or a script, so every refusal names the field, shows what was
 * received (escaped and cut short: it goes into e-mails and the Fail state's cause) and says what
 * to send instead. Unknown fields are refused rather than ignored: a misspelt `obervationDays`
 * silently falling back to the default would watch for a shorter time than the person asked for.
 */

export const MAX_REQUESTED_BY_LENGTH = 256;
export const MAX_REASON_LENGTH = 1024;
/**
 * ARNs `acceptDataLoss` may name, and their characters in all: the list travels in the workflow state
 * twice (the input and the validated request), and the state holds 256 KB with everything else.
 */
export const MAX_ACCEPTED_DATA_LOSS = 200;
export const MAX_ACCEPTED_DATA_LOSS_CHARACTERS = 32_768;
/** The longest ARN any of the inventoried services documents is 2048 characters. */
export const MAX_ARN_LENGTH = 2048;

const { observationDays, pendingWindowInDays } = WHOLE_NUMBER_SETTINGS;

const FIELD_RULES = {
  keyId: 'It is required: the key ID or key ARN of the KMS key to retire.',
  observationDays: `It must be a whole number of days from ${observationDays.min} to ${observationDays.max} (how long to watch the disabled key); omit it for the stack default.`,
  pendingWindowInDays: `It must be a whole number of days from ${pendingWindowInDays.min} to ${pendingWindowInDays.max} (the KMS deletion waiting period); omit it for the stack default.`,
  requestedBy: `It must be text of at most ${MAX_REQUESTED_BY_LENGTH} characters without control characters (no line breaks).`,
  reason: `It must be text of at most ${MAX_REASON_LENGTH} characters; line breaks and tabs are allowed, other control characters are not.`,
  allowExportedPublicKey:
    'It must be true or false (true lets an asymmetric key whose public key was downloaded be retired anyway).',
  acceptDataLoss: `It must be a list of at most ${MAX_ACCEPTED_DATA_LOSS} resource ARNs ("arn:...", each at most ${MAX_ARN_LENGTH} and all together at most ${MAX_ACCEPTED_DATA_LOSS_CHARACTERS} characters, no control characters): exactly the resources encrypted under the key whose data you accept to lose; omit it unless you mean to destroy that data.`,
} as const;

type Field = keyof typeof FIELD_RULES;
const FIELDS = Object.keys(FIELD_RULES) as Field[];

const schema = z.strictObject({
  keyId: z.string(),
  observationDays: z.optional(wholeNumber('observationDays')),
  pendingWindowInDays: z.optional(wholeNumber('pendingWindowInDays')),
  requestedBy: z.optional(
    z.string().check(
      z.maxLength(MAX_REQUESTED_BY_LENGTH),
      z.refine((s) => !hasControlCharacter(s)),
    ),
  ),
  reason: z.optional(
    z.string().check(
      z.maxLength(MAX_REASON_LENGTH),
      // A reason may span lines and carry tabs.
      z.refine((s) => !hasControlCharacter(s, '\n\t')),
    ),
  ),
  allowExportedPublicKey: z.optional(z.boolean()),
  acceptDataLoss: z.optional(
    z
      .array(
        z.string().check(
          z.startsWith('arn:'),
          z.maxLength(MAX_ARN_LENGTH),
          z.refine((s) => !hasControlCharacter(s) && s.trim() === s),
        ),
      )
      .check(
        z.maxLength(MAX_ACCEPTED_DATA_LOSS),
        z.refine(
          (arns) => arns.reduce((sum, arn) => sum + arn.length, 0) <= MAX_ACCEPTED_DATA_LOSS_CHARACTERS,
        ),
      ),
  ),
});

/** What was received, safe to print: quoted and cut short for text, named for anything else. */
export function describeReceived(value: unknown): string {
  if (value === undefined) {
    return 'nothing (the field is missing)';
  }
  if (value === null) {
    return 'null';
  }
  if (typeof value === 'string') {
    return `the text ${quoteUntrusted(value, 60)}${value.length > 60 ? ` (${value.length} characters)` : ''}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return `${typeof value} ${String(value)}`;
  }
  if (Array.isArray(value)) {
    return `a list of ${value.length} items`;
  }
  return `a value of type ${typeof value}`;
}

/** Closest known field for a misspelt one (case and separators ignored). */
function suggestField(unknown: string): Field | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');
  return FIELDS.find((f) => norm(f) === norm(unknown));
}

function fieldProblem(field: Field, received: unknown): string {
  return `Execution input field "${field}" is invalid: received ${describeReceived(received)}. ${FIELD_RULES[field]}`;
}

function unknownFieldProblem(name: string): string {
  const suggestion = suggestField(name);
  const hint = suggestion ? ` Did you mean "${suggestion}"?` : '';
  return (
    `Execution input has an unknown field ${quoteUntrusted(name, 60)}.${hint} ` +
    `Accepted fields: ${FIELDS.join(', ')}; remove or correct the field.`
  );
}

/**
 * Validates the raw execution input and applies the stack's defaults. Throws `InvalidInputError`
 * naming every offending field; the key identifier is also checked for form (no aliases).
 */
export function parseExecutionInput(raw: unknown, config: GuardConfig): ExecutionRequest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidInputError(
      `The execution input must be a JSON object such as {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}; ` +
        `received ${describeReceived(raw)}.`,
      ['(input)'],
    );
  }
  const record = raw as Record<string, unknown>;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems: string[] = [];
    const fields: string[] = [];
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          fields.push(key);
          problems.push(unknownFieldProblem(key));
        }
        continue;
      }
      const field = issue.path[0];
      if (typeof field === 'string' && field in FIELD_RULES && !fields.includes(field)) {
        fields.push(field);
        const entry = issue.path[1];
        const value = record[field];
        // One bad ARN of a long list: name it, not just "a list of 40 items".
        problems.push(
          typeof entry === 'number' && Array.isArray(value)
            ? fieldProblem(field as Field, value[entry]).replace('received', `entry ${entry} is`)
            : fieldProblem(field as Field, value),
        );
      }
    }
    throw new InvalidInputError(problems.join(' '), fields);
  }
  const input = parsed.data;
  try {
    parseKeyId(input.keyId);
  } catch (error) {
    if (error instanceof KeyIdError) {
      throw new InvalidInputError(`Execution input field "keyId" is invalid: ${error.message}`, ['keyId']);
    }
    throw error;
  }
  const observationDays = input.observationDays ?? config.observationDays;
  const pendingWindowInDays = input.pendingWindowInDays ?? config.pendingWindowInDays;
  const days = executionDaysNeeded(observationDays, pendingWindowInDays, config.approvalTimeoutDays);
  if (days > MAX_EXECUTION_DAYS) {
    // Step Functions ends a Standard execution after a year with no Catch: the key would stay
    // disabled with nothing left to restore it.
    throw new InvalidInputError(
      `observationDays (${observationDays}) + pendingWindowInDays (${pendingWindowInDays}) + two approvals of up to ` +
        `${config.approvalTimeoutDays} days need ${days} days, more than the ${MAX_EXECUTION_DAYS} days an execution may run; ` +
        'shorten the observation or the pending window.',
      [
        ...(input.observationDays !== undefined ? ['observationDays'] : []),
        ...(input.pendingWindowInDays !== undefined ? ['pendingWindowInDays'] : []),
      ],
    );
  }
  return {
    keyId: input.keyId,
    observationDays,
    pendingWindowInDays,
    requestedBy: input.requestedBy ?? '',
    reason: input.reason ?? '',
    allowExportedPublicKey: input.allowExportedPublicKey ?? false,
    // Present only when given: a request without it reads as it always did. Duplicates say nothing more.
    ...(input.acceptDataLoss ? { acceptDataLoss: [...new Set(input.acceptDataLoss)] } : {}),
  };
}
