/**
 * The readable form of a simulation result: what happened, when (virtual time), and why the
 * execution ended the way it did. A 30-day watch has hundreds of identical checks, so runs of
 * uneventful ones are folded into one line.
 */
import type { ApplicationCall, ResultTimelineEntry, SimulationResult } from './result.js';

export interface RenderOptions {
  /** Show every state, waits and choices included, without folding. */
  readonly full?: boolean;
}

/** Fields that change on every check and say nothing about what the check found. */
const VOLATILE = new Set(['checks', 'scanned', 'canariesSeen', 'until', 'nextCheckAt', 'retries']);

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d{2}(\.\d+)?Z$/, 'Z');
}

function describe(entry: ResultTimelineEntry): string {
  const d = entry.detail;
  const parts: string[] = [];
  if (typeof d.step === 'string') {
    parts.push(`approval (${d.step}): ${String(d.answer)}`);
  }
  if (typeof d.kind === 'string') {
    parts.push(`e-mail: ${d.kind}`);
  }
  if (typeof d.until === 'string') {
    parts.push(`wait until ${when(d.until)}`);
  }
  for (const [field, value] of Object.entries(d)) {
    if (['step', 'answer', 'kind', 'until'].includes(field)) continue;
    parts.push(`${field}=${Array.isArray(value) ? value.join('+') : String(value)}`);
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
  const key = result.key;
  const keyParts = [`key ${key.keyId ?? '(none)'}: ${key.finalState ?? 'unknown'}`];
  if (key.deletionDate) keyParts.push(`deletion ${when(key.deletionDate)}`);
  if (key.restoredAt) keyParts.push(`usable again ${when(key.restoredAt)}`);
  out.push(
    `Outcome: ${result.outcome}${result.cause ? ` (${result.cause})` : ''} [${result.executionStatus}]; ${keyParts.join(', ')}`,
  );
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
    result ? (result.cause ?? '') : (error ?? ''),
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
