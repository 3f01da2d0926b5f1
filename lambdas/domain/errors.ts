import { CLI_WHERE, cliCommand } from '../contracts/cli.js';
import { WORKFLOW_ERRORS } from '../contracts/workflow-errors.js';
import { quoteUntrusted } from './untrusted.js';

/**
 * The named errors of the run-time side (handlers, lambdas/aws, lambdas/domain). Each `name` is what
 * Step Functions, the logs and the tests see; the workflow's Retry and Catch match those of
 * WORKFLOW_ERRORS, so those names come from there.
 */

// --- Errors the workflow catches by name -------------------------------------------------------

/** The key is not as the workflow expects (state, or who holds it): the workflow must stop. */
export class KeyChangedExternallyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = WORKFLOW_ERRORS.keyChanged;
  }
}

/**
 * GetKeyLastUsage, read just before DisableKey, shows a successful use the assessment did not see:
 * the approval answered an assessment that is no longer true, so the run is refused with nothing changed.
 */
export class KeyUsedSinceAssessmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = WORKFLOW_ERRORS.usedSinceAssessment;
  }
}

/** The source cannot be read (log group missing): a watch that cannot see must never pass. */
export class EventSourceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = WORKFLOW_ERRORS.eventSourceUnavailable;
  }
}

/** The source did not show the workflow's own canary in time: the watch cannot see breakage. */
export class EventSourceBlindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = WORKFLOW_ERRORS.eventSourceBlind;
  }
}

/** The Lambda payload does not have the shape the workflow contract promises. */
export class InvalidHandlerEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = WORKFLOW_ERRORS.invalidHandlerEvent;
  }
}

// --- Execution input and key identifiers ---------------------------------------------------------

export class InvalidInputError extends Error {
  /** The fields at fault (`(input)` when the input as a whole is not an object). */
  readonly fields: readonly string[];
  constructor(message: string, fields: readonly string[]) {
    super(message);
    this.name = 'InvalidInputError';
    this.fields = fields;
  }
}

const KEY_ID_FORM =
  'a key ID (like 1234abcd-12ab-34cd-56ef-1234567890ab, or mrk- and 32 hex digits for a multi-Region key) ' +
  'or a key ARN (arn:aws:kms:<region>:<12-digit account>:key/<key ID>)';

/** Base of every key-identifier error; `name` tells them apart. */
export class KeyIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyIdError';
  }
}

export class EmptyKeyIdError extends KeyIdError {
  constructor() {
    super(`The key identifier is empty: give ${KEY_ID_FORM}.`);
    this.name = 'EmptyKeyIdError';
  }
}

export class KeyIdTooLongError extends KeyIdError {
  constructor(length: number, max: number) {
    super(
      `The key identifier is ${length} characters long; KMS accepts at most ${max}. Give ${KEY_ID_FORM}.`,
    );
    this.name = 'KeyIdTooLongError';
  }
}

export class KeyIdControlCharacterError extends KeyIdError {
  constructor(value: string) {
    super(
      `The key identifier ${quoteUntrusted(value)} contains control characters (such as a newline); ` +
        `give ${KEY_ID_FORM}, copied without surrounding line breaks.`,
    );
    this.name = 'KeyIdControlCharacterError';
  }
}

export class AliasNotSupportedError extends KeyIdError {
  constructor(value: string) {
    // The whole value goes into the command: an alias ARN resolves in its own account and Region.
    const alias = value.length > 300 ? `${value.slice(0, 300)}…` : value;
    super(
      `${quoteUntrusted(value)} is an alias; the workflow needs the key ID or key ARN, because an alias can be ` +
        `pointed at another key while the workflow runs. Resolve it with \`aws kms describe-key --key-id ${alias}\` ` +
        "(KeyMetadata.KeyId) or the CLI's start command, which resolves aliases " +
        `(\`${cliCommand(`start ${alias}`)}\`, ${CLI_WHERE}).`,
    );
    this.name = 'AliasNotSupportedError';
  }
}

export class MalformedKeyArnError extends KeyIdError {
  constructor(value: string) {
    super(`${quoteUntrusted(value)} is not a valid KMS key ARN; give ${KEY_ID_FORM}.`);
    this.name = 'MalformedKeyArnError';
  }
}

export class MalformedKeyIdError extends KeyIdError {
  constructor(value: string) {
    super(`${quoteUntrusted(value)} is not a key ID; give ${KEY_ID_FORM}.`);
    this.name = 'MalformedKeyIdError';
  }
}

/** The key ARN names an account other than the one the workflow runs in. */
export class ForeignAccountKeyError extends Error {
  readonly keyAccount: string;
  readonly homeAccount: string;
  constructor(arn: string, keyAccount: string, homeAccount: string) {
    super(
      `The key ARN ${quoteUntrusted(arn, 200)} belongs to account ${keyAccount}, but this workflow runs in ` +
        `account ${homeAccount}. GetKeyLastUsage is not cross-account, so the key's usage cannot be assessed ` +
        `from here: deploy kms-deletion-guard in account ${keyAccount} and start the execution there.`,
    );
    this.name = 'ForeignAccountKeyError';
    this.keyAccount = keyAccount;
    this.homeAccount = homeAccount;
  }
}

// --- What KMS answered -----------------------------------------------------------------------------

/**
 * `KeyLastUsage` that is neither empty nor complete (an operation without a time, or the reverse).
 * Such an answer proves use but not when, so no rule could clear the key: the assessment stops.
 */
export class IncompleteKeyLastUsageError extends Error {
  constructor(detail: string) {
    super(
      `GetKeyLastUsage returned an incomplete KeyLastUsage (${detail}); the key's last use cannot be dated.`,
    );
    this.name = 'IncompleteKeyLastUsageError';
  }
}

export class InvalidUsageDateError extends Error {
  constructor(field: string) {
    super(`GetKeyLastUsage returned no valid ${field}; the key's usage history cannot be classified.`);
    this.name = 'InvalidUsageDateError';
  }
}

/** KMS answered DescribeKey for another key, or without the fields every later step relies on. */
export class UnexpectedKeyMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnexpectedKeyMetadataError';
  }
}

/** DescribeKey answered without metadata: nothing can be decided about such a key. */
export class KeyUnreadableError extends Error {
  constructor(keyArn: string) {
    super(`DescribeKey returned no KeyMetadata for ${keyArn}`);
    this.name = 'KeyUnreadableError';
  }
}

// --- The watch and the restore ---------------------------------------------------------------------

/** Thrown when the schedule lacks the instant its phase is measured from. */
export class WatchScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WatchScheduleError';
  }
}

/**
 * The fast path claimed the hold moments ago and is undoing it now. Thrown so the step's retry
 * comes back once it is done (then the hold registry shows the fast path's outcome) or its claim
 * went stale (then this step undoes the hold itself).
 */
export class RestoreInProgressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreInProgressError';
  }
}

/**
 * Another actor holds the registry's claim on the key and is acting on it right now (ScheduleDeletion
 * scheduling, or the restore step restoring). Thrown by the fast path so that its retry, minutes
 * later, decides on the hold as that actor left it.
 */
export class HoldBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HoldBusyError';
  }
}

/** The hold registry holds an item for the key that is not a hold record: nothing is decided on it. */
export class HoldRecordUnreadableError extends Error {
  constructor(keyArn: string, issues: string) {
    super(`The hold registry's item for ${keyArn} is not a hold record (${issues}); nothing was changed.`);
    this.name = 'HoldRecordUnreadableError';
  }
}

// --- The approval page -----------------------------------------------------------------------------

/** The link or the form does not carry a usable execution ARN or task token. */
export class InvalidApprovalLinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidApprovalLinkError';
  }
}

/** The submitted form is not a decision this page can accept. */
export class InvalidDecisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidDecisionError';
  }
}

// --- The function's environment ---------------------------------------------------------------------

/** A function's environment lacks a setting the template gives it, or holds one that cannot work. */
export class EnvironmentError extends Error {
  /** The variables at fault. */
  readonly variables: readonly string[];
  constructor(
    variables: readonly string[],
    message = `The function's environment lacks ${variables.join(' and ')} (not set, or not usable).`,
  ) {
    super(message);
    this.name = 'EnvironmentError';
    this.variables = variables;
  }
}

/** The check function lacks the schedule group or the scheduler role: it cannot keep a watch going. */
export class ScheduleSettingsError extends EnvironmentError {
  constructor(variables: readonly string[]) {
    super(
      variables,
      `The check function cannot schedule the watch's next check: ${variables.join(' and ')} not set.`,
    );
    this.name = 'ScheduleSettingsError';
  }
}

/** The fast path lacks its topic or a usable state machine ARN: it can neither tell its executions nor e-mail. */
export class FastPathSettingsError extends EnvironmentError {
  constructor(variables: readonly string[]) {
    super(
      variables,
      `The fast path cannot tell its executions or send the evidence e-mail: ${variables.join(' and ')} ` +
        'not set, or not a state machine ARN.',
    );
    this.name = 'FastPathSettingsError';
  }
}

/** The alarm relay lacks its topic: it has nowhere to publish the stack's alarms. */
export class AlarmRelaySettingsError extends EnvironmentError {
  constructor(variables: readonly string[]) {
    super(variables, `The alarm relay has nowhere to publish: ${variables.join(' and ')} not set.`);
    this.name = 'AlarmRelaySettingsError';
  }
}

// --- The inventory of what a key protects ----------------------------------------------------------

/**
 * One read of the inventory failed. It carries the service, the call and the error, so the refusal
 * (INVENTORY_INCOMPLETE) names them; the inventory never reads a failure as "nothing there".
 */
export class InventoryReadError extends Error {
  constructor(
    readonly service: string,
    readonly call: string,
    readonly errorName: string,
    readonly errorMessage: string,
  ) {
    super(`${service} ${call} failed: ${errorName}${errorMessage ? ` (${errorMessage})` : ''}`);
    this.name = 'InventoryReadError';
  }
}

/** A paged answer handed back the token it was asked with: following it would never end. */
export class PaginationStuckError extends Error {
  constructor(token: string) {
    super(`the service answered the page token ${quoteUntrusted(token, 40)} with the same token again`);
    this.name = 'PaginationStuckError';
  }
}

// --- The bundles' stand-ins for SDK modules -----------------------------------------------------------

/** The function's environment has no role credentials: never the case in Lambda itself. */
export class LambdaCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LambdaCredentialsError';
  }
}

/** An operation with an event stream was sent from a bundle that leaves event streams out. */
export class EventStreamsNotBundledError extends Error {
  constructor() {
    super(
      'This bundle leaves out @smithy/core/event-streams (lib/constructs/guard-function.ts); an operation with an event stream needs the alias removed.',
    );
    this.name = 'EventStreamsNotBundledError';
  }
}

// --- Searches split across invocations -----------------------------------------------------------

/**
 * A search needed more invocations, or more time, than its bound allows (the log group is too busy
 * for the interval, or the quota too low): a check that never finishes must not loop for ever, and
 * must never count as a quiet one.
 */
export class SearchTooLongError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchTooLongError';
  }
}

/** What a split search carries to its next invocation would not fit the state Step Functions passes on. */
export class SearchCarryTooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchCarryTooLargeError';
  }
}

/** A search that must finish in one invocation ran out of its time first: its answer would be partial. */
export class SearchIncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchIncompleteError';
  }
}

// --- The sweep ----------------------------------------------------------------------------------

/**
 * A check in a stack whose sweep searches for every held key found no recent sweep of its hold: the
 * sweep has stopped, fell behind, or never saw this hold. Quiet would prove nothing, so the check
 * fails (and the watch restores the key) rather than judge on what the sweep saw long ago.
 */
export class SweepBehindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepBehindError';
  }
}

/**
 * CloudWatch did not answer the delivery metrics of the log group's subscription completely: the
 * proof of the deliveries is not made (a read that fails is never "nothing there").
 */
export class DeliveryMetricsUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryMetricsUnreadableError';
  }
}

/**
 * The log group's subscription is not the stack's (gone, or its pattern or destination changed):
 * failed calls may be skipped, so no hold stands on it until it is whole again.
 */
export class SubscriptionBrokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubscriptionBrokenError';
  }
}

/**
 * A delivery could not write a hold's sightings: other deliveries kept writing them in between. The
 * delivery fails so that Lambda tries it again, and the proof of the deliveries counts the error.
 */
export class SightingsContendedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SightingsContendedError';
  }
}
