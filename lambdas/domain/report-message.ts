import { CLI_WHERE, cliCommand } from '../contracts/cli.js';
import type { KeyRef } from './cloudtrail.js';
import type { InventoryReport } from './inventory.js';
import { inventoryLines } from './inventory-message.js';
import { toSubject } from './subject.js';
import { DAY_MS } from './time.js';
import type { Evidence, LastUsage, WatchPlan } from './types.js';

/**
 * E-mail texts of the watch: the observation report that goes with the deletion approval
 * request, the evidence mail when the key turned out to be needed, and short progress notes.
 * Plain text only: the same text lands in SNS e-mail, logs and the CLI.
 */

export interface Message {
  readonly subject: string;
  readonly text: string;
}

/** The name a person recognises first: the first alias, else the key ID. */
function keyLabel(key: KeyRef): string {
  return key.aliases[0] ?? key.keyId;
}

function aliasLine(key: KeyRef): string {
  return key.aliases.length > 0 ? key.aliases.join(', ') : '(none)';
}

function answerLines(executionArn: string): string[] {
  return [
    'How to answer (or use the links in this e-mail):',
    `  ${cliCommand(`approve ${executionArn} --step deletion`)}`,
    `  ${cliCommand(`reject ${executionArn} --step deletion`)}`,
    `  (run these ${CLI_WHERE})`,
  ];
}

function days(ms: number): string {
  const value = Math.floor((ms / DAY_MS) * 10) / 10;
  return `${value} day${value === 1 ? '' : 's'}`;
}

export interface ObservationReportArgs {
  readonly key: KeyRef;
  readonly executionArn: string;
  readonly plan: WatchPlan;
  readonly disabledAt: Date;
  readonly now: Date;
  /** Checks run, FinalCheck included. */
  readonly checks: number;
  readonly scanned: number;
  /** What the final GetKeyLastUsage answered. */
  readonly lastUsage: LastUsage | null;
  readonly trackingStartDate?: string | undefined;
  /** Earliest instant the log group could still show in the final search. */
  readonly searchedFrom?: Date | undefined;
  /** What the inventory before the disable approval found; it is taken again right before the deletion. */
  readonly inventory?: InventoryReport | null | undefined;
}

/** The inventory section of the deletion request: what the key protected when it was disabled. */
function inventorySection(inventory: InventoryReport | null | undefined): string[] {
  if (!inventory) {
    return [];
  }
  return [
    ...inventoryLines(inventory),
    '  If you approve, the inventory is taken again right before ScheduleKeyDeletion: anything found then',
    '  that acceptDataLoss does not name exactly stops the deletion and gives the key back.',
    '',
  ];
}

/** The report that asks for the deletion approval after a quiet observation. */
export function observationReport(args: ObservationReportArgs): Message {
  const { key, plan, disabledAt, now } = args;
  const deletionIfApprovedNow = new Date(now.getTime() + plan.pendingWindowInDays * DAY_MS);
  const usage = args.lastUsage
    ? `last successful use ${args.lastUsage.operation} at ${args.lastUsage.timestamp}, before the disable` +
      (args.lastUsage.cloudTrailEventId ? ` (CloudTrail event ${args.lastUsage.cloudTrailEventId})` : '')
    : `no successful cryptographic use recorded${args.trackingStartDate ? ` since ${args.trackingStartDate}` : ''}`;
  const pendingWatch = plan.watchPendingWindow
    ? 'The workflow keeps watching during the pending window and cancels the deletion (key stays disabled) if anyone tries to use the key.'
    : 'The pending window is NOT watched (watchPendingWindow is off): cancel by hand with CancelKeyDeletion if needed.';
  const lines = [
    `Observation report for KMS key ${key.keyArn}`,
    `Aliases: ${aliasLine(key)}`,
    `Execution: ${args.executionArn}`,
    '',
    `Disabled since: ${disabledAt.toISOString()} (${days(now.getTime() - disabledAt.getTime())})`,
    `Checks run: ${args.checks}, the last at ${now.toISOString()}`,
    `CloudTrail records scanned: ${args.scanned} (log group ${plan.logGroupName}` +
      (args.searchedFrom ? `, searched from ${args.searchedFrom.toISOString()})` : ')'),
    'DisabledException on this key: none seen.',
    `GetKeyLastUsage: ${usage}.`,
    '',
    ...inventorySection(args.inventory),
    `If you approve: the workflow calls ScheduleKeyDeletion with a ${plan.pendingWindowInDays}-day pending window.`,
    `Approved now, KMS would delete the key on ${deletionIfApprovedNow.toISOString()};`,
    'after that the key and every ciphertext made under it are unrecoverable.',
    pendingWatch,
    'If you reject (or do not answer in time): the key is restored to its state before this execution.',
    '',
    ...answerLines(args.executionArn),
  ];
  return {
    subject: toSubject(
      `KMS key ${keyLabel(key)}: no use in ${plan.observationDays} days disabled - approve deletion?`,
    ),
    text: lines.join('\n'),
  };
}

export interface EvidenceReportArgs {
  readonly key: KeyRef;
  readonly executionArn: string;
  readonly phase: 'OBSERVE' | 'FINAL' | 'PENDING';
  readonly evidence: readonly Evidence[];
  /** All evidence records found, also those not kept in the state. */
  readonly evidenceCount: number;
  readonly now: Date;
}

function evidenceBlock(entry: Evidence): string[] {
  const error = entry.errorCode === '' ? 'successful use' : entry.errorCode;
  return [
    `- ${entry.eventTime}  ${entry.eventName}  (${error})`,
    `    caller:     ${entry.principal}`,
    `    source IP:  ${entry.sourceIPAddress}`,
    `    user agent: ${entry.userAgent}`,
    `    event ID:   ${entry.eventID}` +
      (entry.recipientAccountId ? `  (account ${entry.recipientAccountId})` : ''),
  ];
}

/** The mail that says the key is still needed and what the workflow does about it. */
export function evidenceReport(args: EvidenceReportArgs): Message {
  const { key, phase, evidence } = args;
  const pending = phase === 'PENDING';
  const what = pending
    ? 'calls failed because the key is pending deletion'
    : 'calls failed because the key is disabled, or it was used after the disable';
  const next = pending
    ? 'What happens now: the workflow cancels the deletion (CancelKeyDeletion); the key stays disabled.'
    : 'What happens now: the workflow re-enables the key it disabled (roll back); nothing is deleted.';
  const shown =
    args.evidenceCount > evidence.length
      ? `Evidence (the first ${evidence.length} of ${args.evidenceCount}):`
      : `Evidence (${evidence.length}):`;
  const lines = [
    `KMS key ${key.keyArn} is still in use: ${args.evidenceCount} ${what}.`,
    `Aliases: ${aliasLine(key)}`,
    `Execution: ${args.executionArn}`,
    `Found at: ${args.now.toISOString()}`,
    '',
    next,
    '',
    shown,
    ...evidence.flatMap(evidenceBlock),
    '',
    `Event IDs: ${evidence.map((entry) => entry.eventID).join(', ')}`,
    `Count: ${args.evidenceCount}`,
  ];
  const action = pending ? 'cancelling deletion' : 'rolling back';
  return {
    subject: toSubject(`KMS key ${keyLabel(key)} still in use (${args.evidenceCount}): ${action}`),
    text: lines.join('\n'),
  };
}

export interface ProgressArgs {
  readonly key: KeyRef;
  readonly phase: 'OBSERVE' | 'PENDING';
  readonly checks: number;
  readonly scanned: number;
  readonly now: Date;
  readonly nextCheckAt: string;
  readonly done: boolean;
  /** PENDING: when KMS deletes the key (null while it waits for replicas). */
  readonly deletionDate?: string | null | undefined;
}

/** The one-paragraph state of a quiet check, for logs and the CLI's status. */
export function progressNote(args: ProgressArgs): Message {
  const { key, phase } = args;
  const label = keyLabel(key);
  if (phase === 'PENDING') {
    const when = args.deletionDate ?? 'when its replicas are gone and the window has passed';
    const text = args.done
      ? `Pending-window watch of ${key.keyArn} ended at ${args.now.toISOString()} after ${args.checks} checks and ${args.scanned} records scanned with no use seen; KMS deletes the key at ${when}.`
      : `Pending-window check ${args.checks} of ${key.keyArn} at ${args.now.toISOString()}: no use seen (${args.scanned} records scanned); next check at ${args.nextCheckAt}; deletion at ${when}.`;
    return {
      subject: toSubject(
        `KMS key ${label}: ${args.done ? 'pending window quiet, deletion proceeds' : 'no use seen'}`,
      ),
      text,
    };
  }
  const text = args.done
    ? `Observation check ${args.checks} of ${key.keyArn} at ${args.now.toISOString()}: no DisabledException seen (${args.scanned} records scanned); the final check runs at ${args.nextCheckAt}.`
    : `Observation check ${args.checks} of ${key.keyArn} at ${args.now.toISOString()}: no DisabledException seen (${args.scanned} records scanned); next check at ${args.nextCheckAt}.`;
  return { subject: toSubject(`KMS key ${label}: check ${args.checks}, no use seen`), text };
}
