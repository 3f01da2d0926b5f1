/**
 * The e-mail and the Fail cause of the restore step (RollBack, CancelDeletion, Restore).
 *
 * The reader is the person who gets this e-mail weeks after starting the execution, possibly because
 * an application broke: it says what happened, shows the evidence, what the workflow did to the key
 * and the state the key is in now, so they can act without opening the console first.
 */

import { BLIND_CHECKLIST } from './canary.js';
import { toSubject } from './subject.js';
import type {
  AbortCause,
  Evidence,
  KeyFacts,
  Outcome,
  RestoreMode,
  RestoreResult,
  WatchState,
} from './types.js';
import { ABORT_CAUSES, REFUSAL_CAUSES } from './types.js';

/** Evidence entries written out in full; the count and event IDs cover the rest. */
export const MAX_EVIDENCE_IN_MESSAGE = 20;
const CAUSE_LINE_MAX = 400;

export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string | undefined;
}

export interface RestoreReport {
  readonly mode: RestoreMode;
  readonly outcome: Outcome;
  readonly executionArn: string;
  /** Null when the assessment never identified the key. */
  readonly key: KeyFacts | null;
  readonly actions: RestoreResult['actions'];
  readonly finalKeyState: string;
  readonly restoredAt: string | null;
  readonly reason: string;
  readonly watch?: WatchState | null | undefined;
  readonly error?: CaughtError | null | undefined;
  readonly now: Date;
}

export interface RestoreMessage {
  readonly subject: string;
  readonly messageText: string;
  readonly causeText: string;
}

/**
 * Errors whose cause is another's: a sweep that has not searched recently is a source the watch
 * cannot read, as a missing log group is (the message still names SweepBehindError).
 */
const CAUSE_OF_ERROR: Readonly<Record<string, AbortCause>> = {
  SweepBehindError: 'EVENT_SOURCE_UNAVAILABLE',
};

/**
 * The ABORT_CAUSES name for a caught error: the error name without its `Error` suffix, in upper
 * snake case (`KeyChangedExternallyError` -> `KEY_CHANGED_EXTERNALLY`), when that is a known cause;
 * `WORKFLOW_ERROR` for anything else (a Lambda crash, `States.Timeout`, an SDK error).
 */
export function abortCauseOf(error: CaughtError | null | undefined): AbortCause {
  if (!error) {
    return 'WORKFLOW_ERROR';
  }
  const aliased = CAUSE_OF_ERROR[error.Error];
  if (aliased) {
    return aliased;
  }
  const snake = error.Error.replace(/Error$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase();
  const known = ABORT_CAUSES.find((cause) => cause === snake || cause === error.Error);
  return known ?? 'WORKFLOW_ERROR';
}

/**
 * The REFUSAL_CAUSES name of a refusal that came after the key was changed (the inventory right
 * before the deletion): the workflow sends it as the caught error's name; plain REFUSED otherwise.
 */
export function refusalCauseOf(error: CaughtError | null | undefined): string {
  const name = error?.Error;
  return REFUSAL_CAUSES.find((cause) => cause === name) ?? 'REFUSED';
}

/** One line of text: whitespace collapsed, control characters dropped, cut to `max`. */
export function oneLine(text: string, max = CAUSE_LINE_MAX): string {
  const flat = text
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/**
 * The readable part of a caught error's Cause. A Lambda error arrives as the JSON Lambda writes
 * (`{"errorType","errorMessage","trace"}`); the message is what a person needs, not the stack.
 */
export function errorMessageOf(error: CaughtError | null | undefined): string {
  const cause = error?.Cause;
  if (!cause) {
    return '';
  }
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed) {
      const message = (parsed as { errorMessage?: unknown }).errorMessage;
      if (typeof message === 'string') {
        return oneLine(message);
      }
    }
  } catch {
    // Not JSON: a Step Functions cause such as States.Timeout's is plain text already.
  }
  return oneLine(cause);
}

function keyLabel(report: RestoreReport): string {
  const key = report.key;
  if (!key) {
    return 'unknown key';
  }
  const alias = key.aliases[0];
  return alias ? `${alias} (${key.keyId})` : key.keyId;
}

function evidenceCount(watch: WatchState | null | undefined): number {
  if (!watch) {
    return 0;
  }
  return Math.max(watch.evidenceCount, watch.evidence.length);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function actionsText(report: RestoreReport): string {
  const done = report.actions.filter((a) => a !== 'NONE');
  if (done.length === 0) {
    return `nothing changed, key ${report.finalKeyState}`;
  }
  return `${done.join(' + ')} done, key ${report.finalKeyState}`;
}

/** The `"<OUTCOME or CAUSE>: <one line>"` of the Fail state. */
export function restoreCauseText(report: RestoreReport): string {
  const count = evidenceCount(report.watch);
  switch (report.outcome) {
    case 'ROLLED_BACK':
      return `ROLLED_BACK: ${oneLine(`${plural(count, 'CloudTrail record')} showed the disabled key ${keyLabel(report)} is still needed; ${actionsText(report)}`)}`;
    case 'DELETION_CANCELLED':
      return `DELETION_CANCELLED: ${oneLine(`${plural(count, 'CloudTrail record')} showed the key ${keyLabel(report)} is still needed during the pending window; ${actionsText(report)}`)}`;
    case 'REJECTED':
      return `REJECTED: ${oneLine(`the deletion request was rejected; ${actionsText(report)}`)}`;
    case 'APPROVAL_EXPIRED':
      return `APPROVAL_EXPIRED: ${oneLine(`nobody answered the deletion request in time; ${actionsText(report)}`)}`;
    case 'REFUSED':
      return `${refusalCauseOf(report.error)}: ${oneLine(`${report.error?.Cause ?? report.reason}; ${actionsText(report)}`)}`;
    case 'ABORTED': {
      const message = errorMessageOf(report.error);
      const errorName = report.error?.Error ?? 'unknown error';
      return `${abortCauseOf(report.error)}: ${oneLine(`${errorName}${message ? ` (${message})` : ''}; ${actionsText(report)}`)}`;
    }
    default:
      return `${report.outcome}: ${oneLine(`${report.reason} ${actionsText(report)}`)}`;
  }
}

function subjectOf(report: RestoreReport): string {
  const headline: Record<RestoreMode, string> = {
    ROLLBACK: 'key still in use, rolled back',
    CANCEL_DELETION: 'key still in use, deletion cancelled',
    ABORT: 'workflow stopped',
  };
  const what =
    report.mode === 'ABORT' && report.outcome !== 'ABORTED' ? report.outcome : headline[report.mode];
  return toSubject(`kms-deletion-guard: ${what}: ${keyLabel(report)}`);
}

function whatHappened(report: RestoreReport): string {
  switch (report.outcome) {
    case 'ROLLED_BACK':
      return (
        'While the key was disabled, CloudTrail recorded calls that failed because it is disabled: ' +
        'something still needs this key. The workflow stopped and put the key back as it was.'
      );
    case 'DELETION_CANCELLED':
      return (
        'While the key was pending deletion, CloudTrail recorded calls that failed because of it: ' +
        'something still needs this key. The workflow cancelled the deletion. The key stays Disabled so ' +
        'that its use stays visible; enable it once you know who the callers below are.'
      );
    case 'REJECTED':
      return 'The deletion request was rejected. The workflow returned the key to the state it had before.';
    case 'APPROVAL_EXPIRED':
      return (
        'Nobody answered the deletion request before the approval timeout. ' +
        'The workflow returned the key to the state it had before.'
      );
    case 'REFUSED':
      return (
        'Right before scheduling the deletion, the workflow found a reason it must not delete this key ' +
        '(below). It did not schedule the deletion and returned the key to the state it had before.'
      );
    default:
      return (
        'The workflow stopped on an error it cannot resolve by itself. Every uncertain path leads away ' +
        'from deletion: it undid what this execution did to the key, and nothing that others did.'
      );
  }
}

function evidenceSection(watch: WatchState | null | undefined): string[] {
  const count = evidenceCount(watch);
  if (!watch || count === 0) {
    return [];
  }
  const shown = [...watch.evidence]
    .sort((a, b) => a.eventTime.localeCompare(b.eventTime))
    .slice(0, MAX_EVIDENCE_IN_MESSAGE);
  const lines = [
    `Evidence: ${plural(count, 'CloudTrail record')}${shown.length < count ? ` (the first ${shown.length} shown)` : ''}`,
  ];
  shown.forEach((e: Evidence, i) => {
    lines.push(
      `  ${i + 1}. ${e.eventTime}  ${e.eventName}  ${e.errorCode}`,
      `     caller:     ${e.principal}${e.recipientAccountId ? ` (recipient account ${e.recipientAccountId})` : ''}`,
      `     source IP:  ${e.sourceIPAddress}`,
      `     user agent: ${oneLine(e.userAgent, 200)}`,
      `     event ID:   ${e.eventID}`,
    );
  });
  lines.push(`Event IDs: ${shown.map((e) => e.eventID).join(', ')}`, '');
  return lines;
}

function actionsSection(report: RestoreReport): string[] {
  const done = report.actions.filter((a) => a !== 'NONE');
  const lines = ['What the workflow did to the key'];
  if (done.length === 0) {
    lines.push('  Nothing.');
  }
  for (const action of done) {
    lines.push(
      action === 'EnableKey'
        ? '  EnableKey: the key is usable again.'
        : '  CancelKeyDeletion: the key is no longer scheduled for deletion (it stays Disabled).',
    );
  }
  lines.push(`  Why: ${report.reason}`, '');
  return lines;
}

/** Subject, plain-text body and Fail cause for the restore step. */
export function buildRestoreMessage(report: RestoreReport): RestoreMessage {
  const key = report.key;
  const lines: string[] = [
    `kms-deletion-guard: ${report.outcome} for KMS key ${keyLabel(report)}`,
    '',
    `Key:        ${key?.keyArn ?? 'unknown (the assessment did not identify it)'}`,
  ];
  if (key && key.aliases.length > 0) {
    lines.push(`Aliases:    ${key.aliases.join(', ')}`);
  }
  lines.push(
    `Execution:  ${report.executionArn}`,
    `Outcome:    ${report.outcome}`,
    `At:         ${report.now.toISOString()}`,
    '',
    'What happened',
    `  ${whatHappened(report)}`,
    '',
  );
  if (report.outcome === 'REFUSED') {
    lines.push(
      `Cause:      ${refusalCauseOf(report.error)}`,
      ...(report.error?.Cause ?? '(none recorded)')
        .split('\n')
        .map((line) => `  ${line.replace(/\p{Cc}/gu, ' ')}`),
      '',
    );
  }
  if (report.mode === 'ABORT' && report.outcome === 'ABORTED') {
    const message = errorMessageOf(report.error);
    lines.push(
      `Cause:      ${abortCauseOf(report.error)}`,
      `Error:      ${report.error?.Error ?? '(none recorded)'}`,
      `Details:    ${message || '(none recorded)'}`,
      '',
    );
    if (abortCauseOf(report.error) === 'EVENT_SOURCE_BLIND') {
      // The watch could not see: say what to fix, or the next run will be blind the same way.
      lines.push(
        'What was missing',
        "  The record of the workflow's own canary call on the key (a call that had to fail on the",
        '  disabled key) did not reach the CloudTrail log group within the ingestion lag. A quiet watch',
        '  over that source proves nothing, so the workflow stopped and put the key back.',
        '',
        'What to check in the trail',
        ...BLIND_CHECKLIST.map((line) => `  - ${line}`),
        '',
      );
    }
  }
  lines.push(...evidenceSection(report.watch), ...actionsSection(report));
  lines.push(`Final key state: ${report.finalKeyState}`);
  if (report.restoredAt) {
    lines.push(`Restored at:     ${report.restoredAt}`);
  }
  return {
    subject: subjectOf(report),
    messageText: `${lines.join('\n')}\n`,
    causeText: restoreCauseText(report),
  };
}
