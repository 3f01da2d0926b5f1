/**
 * The readable form of a simulation result: what happened, when (virtual time), and why the
 * execution ended the way it did. A 30-day watch has hundreds of identical checks, so runs of
 * uneventful ones are folded into one line.
 *
 * The words are the outcome's, not the engine's: Step Functions ends every outcome but a scheduled
 * deletion in a Fail state (execution status FAILED, the outcome as its Error), so a correct
 * refusal or rollback would otherwise read like a failure. `--json` keeps the engine's terms.
 */
import { OUTCOMES, type Outcome } from '../../lambdas/domain/types.js';
import {
  type ApplicationCall,
  type ResultTimelineEntry,
  SCHEDULED_RULE_STATE,
  type SimulationResult,
  SUBSCRIPTION_STATE,
} from './result.js';

export interface RenderOptions {
  /** Show every state, waits and choices included, without folding. */
  readonly full?: boolean;
}

/** Fields that change on every check and say nothing about what the check found. */
const VOLATILE = new Set(['checks', 'scanned', 'canariesSeen', 'until', 'nextCheckAt', 'retries']);

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d{2}(\.\d+)?Z$/, 'Z');
}

function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'string' && (OUTCOMES as readonly string[]).includes(value);
}

/** An approval answer as what the approver did, and the error the answer is expected to raise. */
const APPROVAL_ANSWERS: Readonly<Record<string, { readonly said: string; readonly raises?: string }>> = {
  approve: { said: 'approved' },
  reject: { said: 'rejected', raises: 'ApprovalRejected' },
  timeout: { said: 'no answer before the timeout', raises: 'States.Timeout' },
};

/**
 * What a scheduled check did with the watch (its handler's `outcome`), where the rest of the line
 * does not already say it: an answered watch shows `answered=`.
 */
const CHECK_DID: Readonly<Record<string, string | null>> = {
  SCHEDULED: 'next=scheduled',
  CONTINUED: 'next=continued (search split)',
  RETRY_SCHEDULED: 'next=retry',
  TOKEN_GONE: 'next=none (the watch had already ended)',
  ANSWERED: null,
  FAILED: null,
};

/** An approver's late answer (the world's entry): what was answered and what Step Functions made of it. */
function describeAnswer(d: Readonly<Record<string, unknown>>): string {
  const said = APPROVAL_ANSWERS[String(d.answer)]?.said ?? String(d.answer);
  if (d.result === 'accepted') {
    return `approver's answer (${String(d.step)}): ${said}, accepted`;
  }
  const state = typeof d.keyState === 'string' ? `; key ${d.keyState}` : '';
  return `approver's answer (${String(d.step)}): ${said}, refused (${String(d.result)}); ${String(d.note ?? 'nothing changed')}${state}`;
}

function describe(entry: ResultTimelineEntry): string {
  const d = entry.detail;
  if (entry.state === 'ApprovalAnswer') {
    return describeAnswer(d);
  }
  const parts: string[] = [];
  const skip = new Set(['step', 'answer', 'kind', 'until', 'answerAt']);
  if (typeof d.step === 'string') {
    const answer = APPROVAL_ANSWERS[String(d.answer)];
    if (typeof d.answerAt === 'string') {
      // The approver answers later: the request may expire first.
      const expired = d.error === 'States.Timeout';
      parts.push(
        `approval (${d.step}): to be ${answer?.said ?? String(d.answer)} ${when(d.answerAt)}${expired ? ', expired before' : ''}`,
      );
      if (expired) skip.add('error');
    } else {
      parts.push(`approval (${d.step}): ${answer?.said ?? String(d.answer)}`);
    }
    if (answer?.raises !== undefined && d.error === answer.raises) {
      skip.add('error');
    }
  }
  if (typeof d.kind === 'string') {
    parts.push(`e-mail: ${d.kind}`);
  }
  if (typeof d.until === 'string') {
    parts.push(`wait until ${when(d.until)}`);
  }
  for (const [field, value] of Object.entries(d)) {
    if (skip.has(field)) continue;
    if (field === 'error' && isOutcome(value)) {
      // A Fail state: its Error is the outcome the execution ends with.
      parts.push(`outcome=${value}`);
    } else if (field === 'answered' && value === 'failure' && typeof d.error === 'string') {
      // The watch was answered with this error (SendTaskFailure), which the workflow catches.
      parts.push(`answered=${d.error}`);
      skip.add('error');
    } else if (field === 'error' && d.answered === 'failure' && typeof value === 'string') {
      // Shown as the answer, wherever it stands among the fields.
    } else if (
      field === 'outcome' &&
      entry.handler !== undefined &&
      entry.state !== SCHEDULED_RULE_STATE &&
      entry.state !== SUBSCRIPTION_STATE &&
      typeof value === 'string'
    ) {
      const did = Object.hasOwn(CHECK_DID, value) ? CHECK_DID[value] : `check=${value}`;
      if (did) parts.push(did);
    } else {
      parts.push(`${field}=${Array.isArray(value) ? value.join('+') : String(value)}`);
    }
  }
  return parts.join(', ');
}

function signature(entry: ResultTimelineEntry): string {
  const detail = Object.fromEntries(Object.entries(entry.detail).filter(([k]) => !VOLATILE.has(k)));
  return `${entry.state}|${JSON.stringify(detail)}`;
}

/** Waits and choices are implied by the times and states around them. */
function isPlumbing(entry: ResultTimelineEntry): boolean {
  return typeof entry.detail.until === 'string' || /Verdict$|^Is[A-Z]|^Start/.test(entry.state);
}

function line(entry: ResultTimelineEntry): string {
  const text = describe(entry);
  return `  ${when(entry.at)}  ${entry.state.padEnd(28)} ${text}`.trimEnd();
}

export function renderTimeline(
  entries: readonly ResultTimelineEntry[],
  options: RenderOptions = {},
): string[] {
  const shown = options.full ? entries : entries.filter((e) => !isPlumbing(e));
  if (options.full) {
    return shown.map(line);
  }
  const lines: string[] = [];
  let i = 0;
  while (i < shown.length) {
    const entry = shown[i] as ResultTimelineEntry;
    let j = i + 1;
    while (j < shown.length && signature(shown[j] as ResultTimelineEntry) === signature(entry)) {
      j += 1;
    }
    lines.push(line(entry));
    const repeats = j - i - 1;
    if (repeats > 1) {
      const lastRepeat = shown[j - 1] as ResultTimelineEntry;
      lines.push(`  ${''.padEnd(17)}  … ${repeats - 1} more ${entry.state} with the same result`);
      lines.push(line(lastRepeat));
    } else if (repeats === 1) {
      lines.push(line(shown[j - 1] as ResultTimelineEntry));
    }
    i = j;
  }
  return lines;
}

/** "12 application calls: 3 ok, 9 failed (DisabledException 9), first failure 2026-01-13 00:00Z". */
export function renderCalls(calls: readonly ApplicationCall[]): string | null {
  if (calls.length === 0) {
    return null;
  }
  const failed = calls.filter((c) => !c.ok);
  const byCode = new Map<string, number>();
  for (const call of failed) {
    const code = call.errorCode ?? 'error';
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }
  const codes = [...byCode].map(([code, n]) => `${code} ${n}`).join(', ');
  const first = failed[0];
  return (
    `Application calls: ${calls.length} (${calls.length - failed.length} ok, ${failed.length} failed` +
    `${codes ? `: ${codes}` : ''})${first ? `; first failure ${when(first.at)} ${first.operation} by ${first.principal}` : ''}`
  );
}

/** What each outcome means, in words that hold for every run that ends with it. */
const OUTCOME_MEANING: Readonly<Record<Outcome, string>> = {
  REFUSED: 'refused before any change',
  REJECTED: 'the approver rejected the request',
  APPROVAL_EXPIRED: 'no approval came in time',
  ROLLED_BACK: 'the key is still needed',
  DELETION_CANCELLED: 'the key is still needed',
  ABORTED: 'the workflow stopped',
  DELETION_SCHEDULED: 'no use seen while the key was disabled',
};

/**
 * Whether a deletion was pending when the key was first restored. `restoredAt` is the first
 * EnableKey or CancelKeyDeletion after the workflow disabled the key, and KMS refuses EnableKey on
 * a key pending deletion: with a deletion scheduled before (by the workflow or by a call of the
 * scenario), that first restore was the cancellation.
 */
function deletionPendingAt(
  result: SimulationResult & { readonly calls?: readonly ApplicationCall[] },
  restoredAt: string,
): boolean {
  const at = Date.parse(restoredAt);
  const byWorkflow = result.timeline.some(
    (e) =>
      e.state === 'ScheduleDeletion' && e.detail.keyState === 'PendingDeletion' && Date.parse(e.at) <= at,
  );
  const byCall = (result.calls ?? []).some(
    (c) => c.operation === 'ScheduleKeyDeletion' && c.ok && Date.parse(c.at) <= at,
  );
  return byWorkflow || byCall;
}

/** The key's state at the end, with what made it so where the result says: `Enabled (re-enabled …)`. */
function keyFate(result: SimulationResult & { readonly calls?: readonly ApplicationCall[] }): string {
  const { finalState, deletionDate, restoredAt } = result.key;
  if (finalState === null) {
    return 'unknown';
  }
  if ((finalState === 'PendingDeletion' || finalState === 'PendingReplicaDeletion') && deletionDate) {
    return `${finalState} (KMS deletes it ${when(deletionDate)})`;
  }
  if (finalState === 'Deleted' && deletionDate) {
    return `Deleted (KMS deleted it ${when(deletionDate)})`;
  }
  if (restoredAt === null || (finalState !== 'Enabled' && finalState !== 'Disabled')) {
    return finalState;
  }
  const cancelled = deletionPendingAt(result, restoredAt);
  if (finalState === 'Enabled') {
    return cancelled
      ? `Enabled (deletion cancelled ${when(restoredAt)}, then re-enabled)`
      : `Enabled (re-enabled ${when(restoredAt)})`;
  }
  return cancelled
    ? `Disabled (deletion cancelled ${when(restoredAt)}; usable again after EnableKey by its owner)`
    : `Disabled (re-enabled ${when(restoredAt)}, then disabled again)`;
}

/**
 * `Outcome: ROLLED_BACK — the key is still needed; key 2345…: Enabled (re-enabled 2026-01-05 02:02Z)`.
 * The cause is named where it adds to the outcome (ABORTED, REFUSED), not repeated where a Fail
 * state's cause only restates it.
 */
export function renderOutcome(
  result: SimulationResult & { readonly calls?: readonly ApplicationCall[] },
): string {
  const cause = result.cause && result.cause !== result.outcome ? ` (${result.cause})` : '';
  return (
    `Outcome: ${result.outcome}${cause} — ${OUTCOME_MEANING[result.outcome]}; ` +
    `key ${result.key.keyId ?? '(none)'}: ${keyFate(result)}`
  );
}

export function renderResult(
  result: SimulationResult & { readonly calls?: readonly ApplicationCall[] },
  options: RenderOptions = {},
): string {
  const out: string[] = [`Scenario: ${result.name}`, ...renderTimeline(result.timeline, options)];
  const calls = renderCalls(result.calls ?? []);
  if (calls) {
    out.push(calls);
  }
  if (result.evidence.length > 0) {
    out.push('Evidence (the key is still needed):');
    for (const e of result.evidence) {
      const from = e.sourceIPAddress ? ` from ${e.sourceIPAddress}` : '';
      const code = e.errorCode ? ` ${e.errorCode}` : '';
      out.push(`  ${when(e.eventTime)}  ${e.eventName}${code} by ${e.principal}${from} (event ${e.eventID})`);
    }
  }
  if (result.notifications.length > 0) {
    out.push('Notifications:');
    for (const n of result.notifications) {
      out.push(`  ${when(n.at)}  ${n.kind.padEnd(18)} ${n.subject}`);
    }
  }
  out.push(renderOutcome(result));
  if (result.error) {
    out.push(`Error: ${result.error.Error}: ${result.error.Cause}`);
  }
  const s = result.stats;
  out.push(
    `Stats: ${s.stateTransitions} state transitions, ${s.lambdaInvocations} Lambda invocations, ` +
      `${s.logEventsScanned} log events scanned (${s.logEventsInWindow} in the query windows)`,
  );
  return out.join('\n');
}

/** One row per scenario for `demo`. */
export function renderSummary(
  results: readonly { file: string; result: SimulationResult | null; error?: string }[],
): string {
  const rows = results.map(({ file, result, error }) => [
    file,
    result ? result.outcome : 'ERROR',
    result ? (result.cause && result.cause !== result.outcome ? result.cause : '') : (error ?? ''),
    result ? (result.key.finalState ?? '') : '',
    result ? String(result.stats.stateTransitions) : '',
    result ? String(result.evidence.length) : '',
  ]);
  const header = ['scenario', 'outcome', 'cause', 'key', 'transitions', 'evidence'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...rows.map(format)].join('\n');
}
