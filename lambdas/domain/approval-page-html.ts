/**
 * The HTML of the approval page and of the pages after a decision or for an unusable link.
 *
 * A person decides here whether a key may be disabled or deleted. The page puts what Approve, Reject
 * and no answer do first, keeps both buttons in view beside the assessment (at 1000x900 with a
 * full-size request), and shows the assessment or observation as sections from the structured state,
 * warnings first; the e-mail text stays one click away, and is the page's content only when the
 * history no longer holds the state.
 *
 * No script, one stylesheet allowed by hash, and every value from the history is HTML-escaped.
 */
import { createHash } from 'node:crypto';
import {
  type ApprovalDecisionKind,
  type ApprovalKey,
  type ApprovalObservation,
  type ApprovalRequest,
  type ApprovalStep,
  type ApprovalUsage,
  type DecisionContext,
  deletionDateIfApprovedAt,
  MAX_COMMENT_LENGTH,
  MAX_NAME_LENGTH,
} from './approval-page.js';
import { SELF_DECLARED_LABEL } from './decider.js';
import { wholeDays } from './time.js';
import { describeClassification } from './usage.js';

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

// The decision panel sits beside the assessment and stays in view while the person reads it; on a
// narrow screen it comes first. Calm colours: the page asks for a careful decision, not an alarm.
const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#f3f4f6;line-height:1.5}
main{max-width:76rem;margin:0 auto;padding:1.25rem 1.25rem 3rem;box-sizing:border-box}
h1{font-size:1.45rem;line-height:1.25;margin:.1rem 0 .3rem}h2{font-size:1.05rem;margin:0 0 .6rem}
.eyebrow{margin:0;color:#59636e;font-size:.8rem;letter-spacing:.05em;text-transform:uppercase}
.keyline{margin:0 0 1rem;color:#3d444d;overflow-wrap:anywhere}
.layout{display:grid;grid-template-columns:minmax(0,1fr) 25rem;gap:1.25rem;align-items:start}
.decision{grid-column:2;grid-row:1;position:sticky;top:1rem}.details{grid-column:1;grid-row:1}
@media (max-width:56rem){.layout{display:block}.decision{position:static}th{width:7rem}.card{padding:.9rem}}
.card{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
.decision.card{border-color:#9aa5b1;box-shadow:0 1px 3px rgba(31,35,40,.08)}
.consequences{margin:0 0 .5rem}.consequences dt{font-weight:600;margin-top:.45rem}
.consequences dd{margin:0;font-size:.92rem;color:#3d444d}
.muted,.note{color:#59636e;font-size:.88rem}.note{margin:.1rem 0 .6rem}
table{border-collapse:collapse;width:100%;font-size:.94rem}
th,td{border-top:1px solid #e6e9ed;padding:.4rem .5rem .4rem 0;text-align:left;vertical-align:top}
tr:first-child>th,tr:first-child>td{border-top:0}
th{width:9rem;font-weight:600;color:#3d444d}td{overflow-wrap:anywhere}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86em}
.text{white-space:pre-line}.tags{margin:0;display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.1rem .75rem}.tags dd{margin:0}
.warnings{border-left:4px solid #b7791f;background:#fffaf0}
.warnings ul{margin:0;padding-left:1.1rem}.warnings li{margin:.3rem 0;overflow-wrap:anywhere}
.ok{border-left:4px solid #2f855a}
.report{overflow-wrap:anywhere}.report h3{font-size:.95rem;margin:.9rem 0 .3rem}.report p{margin:.4rem 0}.report ul{margin:.3rem 0;padding-left:1.1rem}
details>summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;border:1px solid #e6e9ed;border-radius:6px;padding:.75rem;font-size:.8rem}
label{display:block;font-weight:600;font-size:.92rem;margin-top:.6rem}
input[type=text],textarea{width:100%;box-sizing:border-box;font:inherit;padding:.35rem .45rem;border:1px solid #8c959f;border-radius:4px}
.actions{margin-top:.9rem;display:flex;gap:.6rem;flex-wrap:wrap}
button{font:inherit;font-size:.95rem;font-weight:600;padding:.5rem .75rem;border-radius:6px;border:1px solid transparent;cursor:pointer}
button.approve{background:#1f4f8f;color:#fff}button.approve.destructive{background:#9b2c2c}
button.reject{background:#fff;color:#1f2328;border-color:#8c959f}
button:focus-visible,input:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #0b5fff;outline-offset:2px}
.warn{border-left:4px solid #b00020;padding:.25rem .75rem;background:#fdeeee}
`;
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/**
 * Headers of every page: never cached or framed (clickjacking on an Approve button), no referrer
 * (the URL holds the link's secret), no scripts at all, and forms may post only back to this endpoint.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
};

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)} · kms-deletion-guard</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** `2026-03-03 14:05 UTC`: unambiguous for readers in any time zone. */
export function formatUtc(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Whole days from `from` to `now` (as the idle rule counts them), or null for an unreadable time. */
export function wholeDaysBetween(from: string, now: Date): number | null {
  const at = Date.parse(from);
  return Number.isNaN(at) ? null : wholeDays(now.getTime() - at);
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** `1,284,113`: digits grouped the same for every reader, whatever the server's locale. */
function grouped(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `3 days ago`, `today` or `in 2 days`. */
export function daysAgo(from: string, now: Date): string | null {
  const days = wholeDaysBetween(from, now);
  if (days === null) return null;
  if (days === 0) return 'today';
  return days > 0 ? `${plural(days, 'day')} ago` : `in ${plural(-days, 'day')}`;
}

function row(label: string, valueHtml: string): string {
  return `<tr><th scope="row">${escapeHtml(label)}</th><td>${valueHtml}</td></tr>`;
}

function code(value: string): string {
  return `<code>${escapeHtml(value)}</code>`;
}

/** An instant as UTC text in a `<time>` element; text that is not a time is shown as it is. */
function time(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return escapeHtml(iso);
  return `<time datetime="${escapeHtml(at.toISOString())}">${escapeHtml(formatUtc(at))}</time>`;
}

/** An instant with how long ago it was: `2025-10-02 03:12 UTC (122 days ago)`. */
function timeAgo(iso: string, now: Date): string {
  const ago = daysAgo(iso, now);
  return ago === null ? time(iso) : `${time(iso)} <span class="muted">(${escapeHtml(ago)})</span>`;
}

function table(label: string, rows: readonly string[]): string {
  return `<table aria-label="${escapeHtml(label)}">\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

function section(id: string, heading: string, content: string, className = 'card'): string {
  return `<section class="${className}" aria-labelledby="${id}">\n<h2 id="${id}">${escapeHtml(heading)}</h2>\n${content}\n</section>`;
}

/**
 * Since when the key is known to be idle, by the evidence the assessment had: its last recorded use,
 * its creation when it never was used, or where the searchable history begins when nothing older
 * can be seen.
 */
export function idleSince(usage: ApprovalUsage): { readonly since: string; readonly basis: string } {
  if (usage.lastUsage) return { since: usage.lastUsage.timestamp, basis: 'its last use' };
  if (usage.classification === 'NEVER_USED') return { since: usage.keyCreationDate, basis: 'its creation' };
  const search = usage.historySearch;
  if (search?.lastUseFound) {
    return { since: search.lastUseFound.eventTime, basis: 'its last use found in CloudTrail' };
  }
  if (search) {
    const from = Math.max(Date.parse(search.searchedFrom), Date.parse(usage.keyCreationDate));
    if (!Number.isNaN(from)) {
      return {
        since: new Date(from).toISOString(),
        basis: 'the start of the history that could be searched',
      };
    }
  }
  return { since: usage.trackingStartDate, basis: 'the start of usage tracking' };
}

function idleRuleText(usage: ApprovalUsage, minIdleDays: number | null, now: Date): string {
  const { since, basis } = idleSince(usage);
  const days = wholeDaysBetween(since, now);
  if (days === null) return escapeHtml(`Unknown: the time of ${basis} cannot be read.`);
  const idle = `Idle for ${plural(days, 'day')}, since ${basis}.`;
  if (minIdleDays === null) return escapeHtml(idle);
  const verdict =
    days >= minIdleDays
      ? `The idle rule (minIdleDays ${minIdleDays}) is met.`
      : `That is less than the idle rule's ${minIdleDays} days (minIdleDays): see the warnings.`;
  return `${escapeHtml(idle)} <strong>${escapeHtml(verdict)}</strong>`;
}

function usageSection(request: ApprovalRequest, usage: ApprovalUsage, now: Date): string {
  const last = usage.lastUsage;
  const rows: string[] = [];
  if (last) {
    const ids = [
      last.cloudTrailEventId ? `CloudTrail event ID ${last.cloudTrailEventId}` : null,
      last.kmsRequestId ? `KMS request ID ${last.kmsRequestId}` : null,
    ].filter((id): id is string => id !== null);
    rows.push(
      row(
        'Last use',
        `${escapeHtml(last.operation)}, ${timeAgo(last.timestamp, now)}` +
          (ids.length > 0 ? `<br><span class="muted">${escapeHtml(ids.join(', '))}</span>` : ''),
      ),
    );
  } else if (usage.classification === 'NEVER_USED') {
    rows.push(row('Last use', escapeHtml('None: never used since the key was created.')));
  } else {
    rows.push(
      row(
        'Last use',
        `${escapeHtml('None since tracking began on ')}${time(usage.trackingStartDate)}${escapeHtml('; KMS does not know about use before then.')}`,
      ),
    );
  }
  rows.push(row('Idle rule', idleRuleText(usage, request.minIdleDays, now)));
  const search = usage.historySearch;
  if (search) {
    const found = search.lastUseFound;
    rows.push(
      row(
        'Before tracking',
        found
          ? `${escapeHtml(`CloudTrail shows a successful ${found.eventName}, `)}${timeAgo(found.eventTime, now)}` +
              `<br><span class="muted">${escapeHtml(`event ID ${found.eventID}`)}</span>`
          : `${escapeHtml('No successful use in the CloudTrail log group from ')}${time(search.searchedFrom)}` +
              `${escapeHtml(' to ')}${time(search.searchedTo)}${escapeHtml(' (it keeps records no further back).')}`,
      ),
    );
  }
  rows.push(
    row(
      'Classification',
      `${escapeHtml(describeClassification(usage.classification))} <span class="muted">(${escapeHtml(usage.classification)})</span>`,
    ),
    row('Tracking started', time(usage.trackingStartDate)),
  );
  return section(
    'usage-heading',
    'Usage (GetKeyLastUsage)',
    `${table('Usage', rows)}
<p class="muted">GetKeyLastUsage counts successful cryptographic operations only, and AWS advises against using it as the sole signal: that is why the key is disabled and watched before any deletion.</p>`,
  );
}

function warningsSection(step: ApprovalStep, warnings: readonly string[]): string {
  const when = step === 'deletion' ? ' at the assessment' : '';
  if (warnings.length === 0) {
    return section('warnings-heading', `Warnings${when}`, '<p>None.</p>', 'card ok');
  }
  const items = warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`).join('\n');
  return section(
    'warnings-heading',
    warnings.length === 1 ? `Warning${when}` : `Warnings${when} (${warnings.length})`,
    `<ul>\n${items}\n</ul>`,
    'card warnings',
  );
}

function multiRegionText(key: ApprovalKey): string {
  if (key.multiRegion !== true) return 'no';
  if (key.multiRegionRole === 'PRIMARY') {
    const replicas = key.replicaCount ?? 0;
    return `primary key, ${plural(replicas, 'replica')}`;
  }
  return key.multiRegionRole === 'REPLICA' ? 'replica key' : 'yes';
}

function keyRows(key: ApprovalKey, now: Date): string[] {
  const tags = Object.entries(key.tags);
  return [
    row('Key ID', code(key.keyId)),
    row('Key ARN', code(key.keyArn)),
    row('Aliases', key.aliases.length > 0 ? key.aliases.map(code).join(', ') : escapeHtml('(none)')),
    row('Description', escapeHtml(key.description.length > 0 ? key.description : '(none)')),
    ...(key.keyState ? [row('State', escapeHtml(key.keyState))] : []),
    ...(key.keySpec ? [row('Spec / usage', escapeHtml(`${key.keySpec} / ${key.keyUsage ?? '?'}`))] : []),
    ...(key.multiRegion === undefined ? [] : [row('Multi-Region', escapeHtml(multiRegionText(key)))]),
    ...(key.account ? [row('Account / Region', escapeHtml(`${key.account} / ${key.region ?? '?'}`))] : []),
    ...(key.creationDate ? [row('Created', timeAgo(key.creationDate, now))] : []),
    ...(tags.length > 0
      ? [
          row(
            'Tags',
            `<dl class="tags">${tags.map(([name, value]) => `<dt>${code(name)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`,
          ),
        ]
      : []),
  ];
}

/**
 * The assessment reads no inventory of the data under the key, so the page says so where a person
 * would look for it: the watch only sees callers, and data nobody reads while the key is disabled
 * stays invisible to it.
 */
function protectsSection(step: ApprovalStep): string {
  const after =
    step === 'deletion'
      ? 'Once KMS deletes the key, such data can never be decrypted again.'
      : 'While the key is only disabled, nothing is lost: enabling it makes such data readable again.';
  return section(
    'protects-heading',
    'What the key protects',
    `<p>Not listed: this workflow does not read which resources hold data encrypted under the key (volumes, snapshots, databases, buckets, secrets, backups), nor the key's grants. The watch sees callers that fail while the key is disabled; data that nobody reads during the watch does not show up. ${escapeHtml(after)}</p>
<p class="muted">The description, aliases and tags above are the hints to check with the key's owners.</p>`,
  );
}

function requestRows(request: ApprovalRequest): string[] {
  return [
    ...(request.requestedBy ? [row('Requested by', escapeHtml(request.requestedBy))] : []),
    ...(request.reason ? [row('Reason', `<span class="text">${escapeHtml(request.reason)}</span>`)] : []),
    ...(request.requestedAt ? [row('Asked at', time(request.requestedAt))] : []),
    row('Execution', code(request.executionArn)),
  ];
}

/** The deletion step's own facts: how long the key was disabled and what the watch saw. */
function observationSection(observation: ApprovalObservation, report: string, now: Date): string {
  const rows: string[] = [];
  if (observation.disabledAt) rows.push(row('Disabled since', timeAgo(observation.disabledAt, now)));
  if (observation.checks !== null) rows.push(row('Checks run', escapeHtml(grouped(observation.checks))));
  if (observation.scanned !== null) {
    rows.push(row('Records scanned', escapeHtml(`${grouped(observation.scanned)} CloudTrail records`)));
  }
  if (observation.evidenceCount !== null) {
    rows.push(
      row(
        'Failed calls',
        escapeHtml(
          observation.evidenceCount === 0
            ? 'None: no DisabledException on this key.'
            : `${grouped(observation.evidenceCount)} failed calls on this key.`,
        ),
      ),
    );
  }
  // The report states the final GetKeyLastUsage answer only in its text, on a line of its own.
  const finalUsage = /^GetKeyLastUsage: (.+)$/m.exec(report)?.[1];
  if (finalUsage) {
    rows.push(
      row('Final usage check', escapeHtml(`${finalUsage.charAt(0).toUpperCase()}${finalUsage.slice(1)}`)),
    );
  }
  if (observation.canaries !== null && observation.canaries > 0) {
    rows.push(
      row(
        'Trail proven',
        escapeHtml(
          `${observation.canariesSeen ?? 0} of ${plural(observation.canaries, 'test call')} the workflow made on the disabled key showed up in the log group.`,
        ),
      ),
    );
  }
  if (observation.disableApprovedBy) {
    rows.push(
      row(
        'Disable approved',
        `${escapeHtml(`by ${observation.disableApprovedBy}`)}${observation.disableApprovedAt ? `, ${time(observation.disableApprovedAt)}` : ''}`,
      ),
    );
  }
  return section('observation-heading', 'Observation', table('Observation', rows));
}

const SECTION_HEADING = /^[A-Z][A-Z /-]{2,}(?: \(.+\))?$/;
const LABELLED_LINE = /^\s*([A-Z][A-Za-z /()-]{0,40}):(?:\s+(\S.*))?$/;
const BULLET = /^(\s*)- (.*)$/;

interface TextBlock {
  readonly heading: string | null;
  readonly lines: string[];
}

/**
 * The e-mail text as sections, for when the state input is not available: a line in capitals
 * starts a section, `Label: value` lines become rows, `- ` lines list items, and hard-wrapped lines
 * are joined again. Every line of the text ends up on the page, whatever its shape.
 */
export function renderTextSections(text: string): string {
  const blocks: TextBlock[] = [{ heading: null, lines: [] }];
  for (const line of text.replaceAll('\r', '').split('\n')) {
    if (SECTION_HEADING.test(line)) {
      blocks.push({ heading: line, lines: [] });
    } else {
      blocks[blocks.length - 1]?.lines.push(line);
    }
  }
  return blocks
    .map((block) => {
      const body = renderTextBody(block.lines);
      if (block.heading === null) return body;
      return `<h3>${escapeHtml(block.heading)}</h3>\n${body}`;
    })
    .filter((html) => html.length > 0)
    .join('\n');
}

function renderTextBody(lines: readonly string[]): string {
  const out: string[] = [];
  let rows: string[] = [];
  let items: string[] = [];
  let paragraph: string[] = [];
  // The last row or item, and the indentation below which a line continues it.
  let open: { kind: 'row' | 'item'; label: string; value: string[]; indent: number } | null = null;
  const close = () => {
    const last = open;
    open = null;
    if (last?.kind === 'row') {
      // A value's own lines (a reason, a list) stay lines.
      rows.push(row(last.label, `<span class="text">${escapeHtml(last.value.join('\n'))}</span>`));
    } else if (last?.kind === 'item') {
      // An item's continuation lines are the e-mail's wrapping: joined again.
      items.push(`<li>${escapeHtml(last.value.join(' '))}</li>`);
    }
  };
  const flush = () => {
    close();
    if (paragraph.length > 0) out.push(`<p>${escapeHtml(paragraph.join(' '))}</p>`);
    if (rows.length > 0) out.push(`<table>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`);
    if (items.length > 0) out.push(`<ul>\n${items.join('\n')}\n</ul>`);
    paragraph = [];
    rows = [];
    items = [];
  };
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trim();
    if (trimmed.length === 0) {
      flush();
      continue;
    }
    if (open !== null && indent > open.indent) {
      open.value.push(trimmed);
      continue;
    }
    const bullet = BULLET.exec(line);
    const labelled = bullet ? null : LABELLED_LINE.exec(line);
    if (bullet) {
      if (rows.length > 0 || paragraph.length > 0) flush();
      close();
      open = { kind: 'item', label: '', value: [bullet[2] ?? ''], indent: bullet[1]?.length ?? 0 };
    } else if (labelled) {
      if (items.length > 0 || paragraph.length > 0) flush();
      close();
      const value = labelled[2];
      open = { kind: 'row', label: labelled[1] ?? '', value: value ? [value] : [], indent };
    } else {
      if (rows.length > 0 || items.length > 0 || open !== null) flush();
      paragraph.push(trimmed);
    }
  }
  flush();
  return out.join('\n');
}

/** What each answer does, stated as the workflow does it for this step and this key. */
function consequences(request: ApprovalRequest, now: Date): string {
  const key = request.key;
  const observation = request.observation;
  let approve: string;
  let reject: string;
  let expire: string;
  if (request.step === 'disable') {
    const days = request.observationDays;
    const watch =
      days === null ? '' : `, then watch CloudTrail for ${days} days for any caller that still needs it`;
    approve =
      key?.keyState === 'Disabled'
        ? `The key is already Disabled: keep it so${watch}. Nothing is deleted at this step. If a caller fails, the workflow stops and leaves the key disabled (it re-enables only keys it disabled); if none does, it asks a second approval before any deletion.`
        : `Disable the key now${watch}. Nothing is deleted at this step: if a caller fails, the workflow re-enables the key and e-mails the evidence; if none does, it asks a second approval before any deletion.`;
    approve = escapeHtml(approve);
    reject = escapeHtml('The workflow ends. Nothing is changed on the key.');
    expire = escapeHtml('The request expires, the workflow ends and nothing is changed on the key.');
  } else {
    const window = request.pendingWindowInDays;
    if (window === null) {
      approve = escapeHtml('Schedule the deletion of the key (the pending window is in the report).');
    } else {
      const date = deletionDateIfApprovedAt(now, window);
      approve =
        `${escapeHtml('Schedule the deletion: approved now, KMS deletes the key on ')}` +
        `<time datetime="${escapeHtml(date.toISOString())}">${escapeHtml(formatUtc(date))}</time>` +
        `${escapeHtml(` (in ${window} days) unless the deletion is cancelled before then. After that, data encrypted under the key can never be decrypted again.`)}`;
    }
    const watching = request.assessment?.watchPendingWindow;
    if (watching === true) {
      approve += escapeHtml(
        ' Until then the workflow keeps watching and cancels the deletion if anything tries to use the key.',
      );
    } else if (watching === false) {
      approve += escapeHtml(
        ' This stack does not watch the pending window: cancel by hand (CancelKeyDeletion) if something breaks.',
      );
    }
    const restore =
      observation?.wasEnabled === true
        ? 'No deletion is scheduled: the workflow ends and re-enables the key, which was Enabled before this execution disabled it.'
        : observation?.wasEnabled === false
          ? 'No deletion is scheduled: the workflow ends. The key was already Disabled before this execution, so it stays Disabled.'
          : 'No deletion is scheduled: the workflow ends and re-enables the key if this execution disabled it (a key that was already Disabled stays Disabled).';
    reject = escapeHtml(restore);
    expire = escapeHtml('The same as Reject.');
  }
  const expiry = request.expiresAt
    ? `No answer by ${formatUtc(new Date(request.expiresAt))}`
    : 'No answer in time';
  return `<dl class="consequences" id="consequences">
<dt>If you approve</dt>
<dd>${approve}</dd>
<dt>If you reject</dt>
<dd>${reject}</dd>
<dt>${escapeHtml(expiry)}</dt>
<dd>${expire}</dd>
</dl>`;
}

/** Whether the page may take a decision for this request, and what it says when it may not. */
export type PageDecision =
  | { readonly canDecide: true }
  | { readonly canDecide: false; readonly reason: string };

function decisionPanel(request: ApprovalRequest, secret: string, now: Date, decision: PageDecision): string {
  const approveLabel = request.step === 'disable' ? 'Approve: disable the key' : 'Approve: schedule deletion';
  const approveClass = request.step === 'disable' ? 'approve' : 'approve destructive';
  const form = decision.canDecide
    ? `<form method="post" action="?" aria-labelledby="decision-heading" aria-describedby="consequences">
<input type="hidden" name="link" value="${escapeHtml(secret)}">
<label for="by">Your name or e-mail</label>
<input type="text" id="by" name="by" maxlength="${MAX_NAME_LENGTH}" autocomplete="email" aria-describedby="by-note">
<p class="note" id="by-note">Recorded as typed and marked self-declared (nothing verifies it), with your IP address and browser.</p>
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="${MAX_COMMENT_LENGTH}" rows="2"></textarea>
<div class="actions">
<button type="submit" class="${approveClass}" name="decision" value="approve">${escapeHtml(approveLabel)}</button>
<button type="submit" class="reject" name="decision" value="reject">Reject</button>
</div>
</form>`
    : `<p class="warn">${escapeHtml(decision.reason)}</p>`;
  return `<section class="card decision" aria-labelledby="decision-heading">
<h2 id="decision-heading">Your decision</h2>
<p class="note">Opening this page decided nothing.</p>
${consequences(request, now)}
${form}
</section>`;
}

/** The assessment (or observation) as sections, warnings first; the e-mail text stays one click away. */
function detailSections(request: ApprovalRequest, now: Date): string {
  const assessment = request.assessment;
  const observation = request.observation;
  const reportName = request.step === 'disable' ? 'Assessment' : 'Observation report';
  // Structured when the state input carried the findings; otherwise the e-mail text, in sections.
  const structured = request.step === 'disable' ? assessment?.usage != null : observation !== null;
  const parts: string[] = [];
  // The deletion step is decided on what the watch saw; the assessment's warnings follow it.
  if (request.step === 'deletion' && observation) {
    parts.push(observationSection(observation, request.reportText, now));
  }
  // Warnings come before the rest of the assessment; "none" is said only where the findings are known.
  if (assessment && (assessment.warnings.length > 0 || structured)) {
    parts.push(warningsSection(request.step, assessment.warnings));
  }
  if (!structured) {
    parts.push(
      section(
        'report-heading',
        reportName,
        `<div class="report">\n${renderTextSections(request.reportText)}\n</div>`,
      ),
    );
  }
  if (assessment?.usage) parts.push(usageSection(request, assessment.usage, now));
  // Without the state input the key is known only from the report's text, shown above.
  if (request.key) {
    parts.push(section('key-heading', 'Key', table('Key', keyRows(request.key, now))));
    parts.push(protectsSection(request.step));
  }
  parts.push(section('request-heading', 'Request', table('Request', requestRows(request))));
  if (structured) {
    parts.push(`<details class="card">
<summary>${escapeHtml(request.step === 'disable' ? 'The assessment e-mail as sent' : 'The observation report as sent')}</summary>
<pre>${escapeHtml(request.reportText)}</pre>
</details>`);
  }
  return parts.join('\n');
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** The identity line under the heading: the names a person knows the key by. */
function keyLine(request: ApprovalRequest): string {
  const key = request.key;
  if (!key) return `<p class="keyline">${escapeHtml(request.subject)}</p>`;
  // Shortened so that a long alias or description cannot push the decision out of view; the key
  // table shows them in full.
  const names = [
    ...(key.aliases[0] ? [`<strong>${escapeHtml(shorten(key.aliases[0], 80))}</strong>`] : []),
    code(shorten(key.keyId, 80)),
    ...(key.description ? [escapeHtml(shorten(key.description, 120))] : []),
  ];
  return `<p class="keyline">${names.join(' · ')}</p>`;
}

/** The GET page: what Approve and Reject do, with both buttons in view, beside the assessment. */
export function renderApprovalPage(
  request: ApprovalRequest,
  secret: string,
  now: Date,
  decision: PageDecision = { canDecide: true },
): string {
  const heading =
    request.step === 'disable'
      ? 'Approve disabling a KMS key?'
      : 'Approve scheduling the deletion of a KMS key?';
  const stage =
    request.step === 'disable' ? 'Step 1 of 2: disable and watch' : 'Step 2 of 2: schedule the deletion';
  const body = `<header>
<p class="eyebrow">kms-deletion-guard · ${escapeHtml(stage)}</p>
<h1>${escapeHtml(heading)}</h1>
${keyLine(request)}
</header>
<div class="layout">
${decisionPanel(request, secret, now, decision)}
<div class="details">
${detailSections(request, now)}
</div>
</div>`;
  return layout(heading, body);
}

/** What the workflow does after a rejection of the deletion, as exactly as the request says. */
function deletionRejectedText(request: ApprovalRequest | undefined): string {
  const wasEnabled = request?.observation?.wasEnabled;
  if (wasEnabled === true) {
    return 'No deletion is scheduled: the workflow ends and re-enables the key it disabled.';
  }
  if (wasEnabled === false) {
    return 'No deletion is scheduled: the workflow ends, and the key stays Disabled, as it was before this execution.';
  }
  return 'No deletion is scheduled: the workflow ends and re-enables the key it disabled (a key that was already Disabled stays Disabled).';
}

/** The decider as every record names them: a typed name says it was only typed. */
function deciderText(context: DecisionContext): string {
  return context.identity.kind === 'self-declared'
    ? `${context.by} (${SELF_DECLARED_LABEL})`
    : `${context.by} (IAM identity verified by AWS)`;
}

/** The page after a decision was accepted by Step Functions. */
export function renderDecisionPage(
  decision: ApprovalDecisionKind,
  context: DecisionContext,
  request?: ApprovalRequest,
): string {
  const title = decision === 'approve' ? 'Approved' : 'Rejected';
  let next: string;
  if (decision === 'approve') {
    next =
      context.step === 'disable'
        ? 'The workflow continues: it disables the key and starts watching CloudTrail for callers that still need it.'
        : request?.assessment?.watchPendingWindow === false
          ? 'The workflow continues: it schedules the deletion of the key; this stack does not watch the pending window.'
          : 'The workflow continues: it schedules the deletion of the key and keeps watching during the pending window.';
  } else {
    next =
      context.step === 'disable'
        ? 'The workflow ends; the key was not changed.'
        : deletionRejectedText(request);
  }
  const body = `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(next)}</p>
<section class="card">
<table>
<tbody>
${row('Decided by', escapeHtml(deciderText(context)))}
${context.sourceIp || context.userAgent ? row('Sent from', escapeHtml([context.sourceIp, context.userAgent].filter((part) => part).join(', '))) : ''}
${row('At', `<time datetime="${escapeHtml(context.at.toISOString())}">${escapeHtml(formatUtc(context.at))}</time>`)}
${context.comment ? row('Comment', `<span class="text">${escapeHtml(context.comment)}</span>`) : ''}
</tbody>
</table>
</section>
<p>The decision is recorded in the execution history. You can close this page.</p>`;
  return layout(title, body);
}

/** A page for a link or decision that cannot be used; never a stack trace. */
export function renderErrorPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p class="warn">${escapeHtml(message)}</p>`);
}
