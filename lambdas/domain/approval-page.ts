/**
 * The approval page: what the link carries, how the pending request is found in
 * the execution history, what the page shows, and what a decision sends back to Step Functions.
 *
 * Pure: no AWS SDK. The handler (lambdas/approval) fetches the history and calls Step Functions.
 *
 * Trust: the link carries an execution ARN and a task token, nothing else is read from the URL.
 * Everything the page shows comes from that execution's history, and only when the history holds a
 * pending approval task whose `taskToken` attribute is exactly the token of the link, so a token
 * pasted next to another execution's ARN shows nothing. Every value is HTML-escaped.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { WORKFLOW_ERRORS } from '../contracts/workflow-errors.js';
import { stripControl } from './assessment-message.js';
import { InvalidApprovalLinkError, InvalidDecisionError } from './errors.js';
import { DAY_MS } from './time.js';

export type ApprovalStep = 'disable' | 'deletion';
export type ApprovalDecisionKind = 'approve' | 'reject';

/** `taskToken` length limit of SendTaskSuccess / SendTaskFailure. */
export const MAX_TOKEN_LENGTH = 2048;
export const MAX_NAME_LENGTH = 200;
export const MAX_COMMENT_LENGTH = 2000;
const MAX_USER_AGENT_LENGTH = 512;
/** SendTaskFailure `cause` limit. */
const MAX_CAUSE_LENGTH = 32768;
/** Who decided, when the person left the name field empty. */
export const DEFAULT_DECIDER = 'approval page';

// Task tokens are base64 (real Step Functions) or URL-safe base64 and hyphenated words (local engines).
const TOKEN = /^[A-Za-z0-9+/=_-]+$/;
// Execution and state machine names: 1-80 characters without white space, brackets, wildcards or
// the special characters Step Functions forbids in names.
const NAME = '[^\\s<>{}\\[\\]?*"#%\\\\^|~`$&,;:/]{1,80}';
const EXECUTION_ARN = new RegExp(
  `^arn:aws(?:-[a-z]+)*:states:[a-z]{2}(?:-[a-z]+)+-\\d+:\\d{12}:execution:${NAME}:${NAME}$`,
);

/** Marker that starts the link paragraph of the approval e-mail (lib/constructs/workflow.ts). */
export const LINK_PARAGRAPH = '\n\nOpen this page to approve or reject';
const LEGACY_TOKEN_PARAGRAPH = '\n\nApproval token:';

/**
 * Restores a task token from a link. The e-mail cannot URL-encode (States.Format has no encoder),
 * so a `+` of the base64 token arrives as a space after query decoding; a mail client that wraps a
 * long link may add line breaks. Neither can be part of a real token.
 */
export function normalizeToken(raw: string): string {
  const token = raw.replace(/[\r\n\t]/g, '').replaceAll(' ', '+');
  if (token.length === 0) {
    throw new InvalidApprovalLinkError('The link has no approval token.');
  }
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN.test(token)) {
    throw new InvalidApprovalLinkError(
      'The approval token in the link is malformed. Open the link from the e-mail again, in full.',
    );
  }
  return token;
}

/** Validates the execution ARN of a link (a raw ARN: `:` needs no encoding in a query). */
export function normalizeExecutionArn(raw: string): string {
  const arn = raw.trim();
  if (arn.length === 0) {
    throw new InvalidApprovalLinkError('The link does not name the workflow execution.');
  }
  if (!EXECUTION_ARN.test(arn)) {
    throw new InvalidApprovalLinkError(
      'The execution named in the link is not a Step Functions execution ARN. Open the link from the e-mail again, in full.',
    );
  }
  return arn;
}

export interface ApprovalLink {
  readonly executionArn: string;
  readonly token: string;
}

/** Reads the two values of the link from the decoded query string; nothing else in the URL is used. */
export function parseApprovalLink(
  query: Readonly<Record<string, string | undefined>> | null | undefined,
): ApprovalLink {
  return {
    executionArn: normalizeExecutionArn(query?.execution ?? ''),
    token: normalizeToken(query?.token ?? ''),
  };
}

/** A short, stable fingerprint of a token for logs; the token itself is a credential and never logged. */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

function sameToken(a: string, b: string): boolean {
  // Compared as digests so the time taken says nothing about how much of a guessed token matched.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

// --- Execution history ------------------------------------------------------------------------

/** The fields of a Step Functions history event this module reads (structurally the SDK's HistoryEvent). */
export interface HistoryEventLike {
  readonly id?: number | undefined;
  readonly previousEventId?: number | undefined;
  readonly type?: string | undefined;
  readonly timestamp?: Date | undefined;
  readonly taskScheduledEventDetails?:
    | {
        readonly resourceType?: string | undefined;
        readonly resource?: string | undefined;
        readonly parameters?: string | undefined;
      }
    | undefined;
  readonly stateEnteredEventDetails?:
    | { readonly name?: string | undefined; readonly input?: string | undefined }
    | undefined;
}

/** Events that end an execution: no token of it can be answered any more. */
const EXECUTION_ENDED = new Set([
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
]);
/** Events that close a task (the approval task included): its token is spent. */
const TASK_CLOSED = new Set([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
  'TaskStateExited',
  'TaskStateAborted',
]);

export interface ApprovalKey {
  readonly keyId: string;
  readonly keyArn: string;
  readonly aliases: readonly string[];
  readonly description: string;
}

/** A pending approval as the execution history shows it. */
export interface ApprovalRequest {
  readonly executionArn: string;
  readonly step: ApprovalStep;
  readonly stateName: string;
  /** When the approval e-mail was sent. */
  readonly requestedAt: string | null;
  readonly subject: string;
  /** Null when the history no longer holds the state's input (the page then shows the e-mail text only). */
  readonly key: ApprovalKey | null;
  readonly requestedBy: string | null;
  readonly reason: string | null;
  readonly observationDays: number | null;
  readonly pendingWindowInDays: number | null;
  /** The assessment (disable step) or the observation report (deletion step), as plain text. */
  readonly reportText: string;
}

export type ApprovalLookup =
  | { readonly status: 'PENDING'; readonly request: ApprovalRequest }
  /** The token's task was answered, timed out or otherwise closed. */
  | { readonly status: 'DECIDED'; readonly step: ApprovalStep; readonly closedBy: string }
  | { readonly status: 'EXECUTION_ENDED'; readonly endedBy: string }
  /** No approval task of this execution carries the token (in the part of the history read). */
  | { readonly status: 'NOT_FOUND' }
  /** The token's task was found but its state input is in an older page of the history. */
  | { readonly status: 'INCOMPLETE' };

const AttributeValue = z.looseObject({ StringValue: z.optional(z.string()) });
const PublishParameters = z.looseObject({
  Message: z.optional(z.string()),
  Subject: z.optional(z.string()),
  MessageAttributes: z.optional(z.record(z.string(), AttributeValue)),
});
/** Text the page shows if it is there; anything else in its place counts as absent. */
const optionalText = () => z.catch(z.optional(z.string()), undefined);
const StateInput = z.looseObject({
  assessment: z.catch(
    z.optional(
      z.looseObject({
        value: z.looseObject({
          key: z.catch(
            z.nullable(
              z.object({
                keyId: z.string(),
                keyArn: z.string(),
                aliases: z.catch(z.array(z.string()), []),
                description: z.catch(z.string(), ''),
              }),
            ),
            null,
          ),
          summaryText: optionalText(),
          subject: optionalText(),
          request: z.catch(
            z.nullable(z.looseObject({ requestedBy: optionalText(), reason: optionalText() })),
            null,
          ),
          plan: z.catch(
            z.nullable(
              z.looseObject({
                observationDays: z.catch(z.optional(z.number().check(z.int())), undefined),
                pendingWindowInDays: z.catch(
                  z.optional(z.number().check(z.int(), z.minimum(7), z.maximum(30))),
                  undefined,
                ),
              }),
            ),
            null,
          ),
        }),
      }),
    ),
    undefined,
  ),
  watch: z.catch(
    z.optional(
      z.looseObject({
        value: z.catch(
          z.nullable(z.looseObject({ reportText: optionalText(), subject: optionalText() })),
          null,
        ),
      }),
    ),
    undefined,
  ),
});

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stepOf(attribute: string | undefined, stateName: string): ApprovalStep | null {
  if (attribute === 'disable' || attribute === 'deletion') return attribute;
  if (stateName === 'RequestDisableApproval') return 'disable';
  if (stateName === 'RequestDeletionApproval') return 'deletion';
  return null;
}

/** The e-mail text without the link paragraph (the page is where the link led). */
function messageSummary(message: string): string {
  for (const marker of [LINK_PARAGRAPH, LEGACY_TOKEN_PARAGRAPH]) {
    const at = message.indexOf(marker);
    if (at >= 0) return message.slice(0, at);
  }
  return message;
}

function isApprovalTask(event: HistoryEventLike): boolean {
  const details = event.taskScheduledEventDetails;
  return (
    event.type === 'TaskScheduled' &&
    details?.resourceType === 'sns' &&
    details.resource === 'publish.waitForTaskToken'
  );
}

/**
 * Finds the approval task of `token` in an execution's history, newest event first (as
 * GetExecutionHistory returns it with `reverseOrder`).
 *
 * The workflow runs one state at a time, so any task-closing event newer than the token's
 * TaskScheduled means that approval is over. `historyComplete` says the events reach back to the
 * start of the execution; without it a found task whose state input lies further back is INCOMPLETE.
 */
export function lookupApproval(
  eventsNewestFirst: readonly HistoryEventLike[],
  executionArn: string,
  token: string,
  historyComplete: boolean,
): ApprovalLookup {
  const newest = eventsNewestFirst[0];
  if (newest?.type && EXECUTION_ENDED.has(newest.type)) {
    return { status: 'EXECUTION_ENDED', endedBy: newest.type };
  }
  let closedBy: string | null = null;
  for (const [index, event] of eventsNewestFirst.entries()) {
    if (event.type && TASK_CLOSED.has(event.type)) {
      closedBy ??= event.type;
    }
    if (!isApprovalTask(event)) continue;
    const parsed = PublishParameters.safeParse(parseJson(event.taskScheduledEventDetails?.parameters));
    if (!parsed.success) continue;
    const attributes = parsed.data.MessageAttributes ?? {};
    const scheduledToken = attributes.taskToken?.StringValue;
    if (scheduledToken === undefined || !sameToken(scheduledToken, token)) continue;

    const entered = eventsNewestFirst
      .slice(index + 1)
      .find((e) => e.type === 'TaskStateEntered' && e.id === event.previousEventId);
    if (!entered && !historyComplete) return { status: 'INCOMPLETE' };
    const stateName = entered?.stateEnteredEventDetails?.name ?? '';
    const step = stepOf(attributes.step?.StringValue, stateName);
    if (step === null) return { status: 'NOT_FOUND' };
    if (closedBy !== null) return { status: 'DECIDED', step, closedBy };

    const input = StateInput.safeParse(parseJson(entered?.stateEnteredEventDetails?.input));
    const state = input.success ? input.data : undefined;
    const assessment = state?.assessment?.value;
    const watch = state?.watch?.value;
    const fromState = step === 'disable' ? assessment?.summaryText : watch?.reportText;
    return {
      status: 'PENDING',
      request: {
        executionArn,
        step,
        stateName,
        requestedAt: event.timestamp ? event.timestamp.toISOString() : null,
        subject:
          parsed.data.Subject ?? (step === 'disable' ? assessment?.subject : watch?.subject) ?? 'Approval',
        key: assessment?.key ?? null,
        requestedBy: assessment?.request?.requestedBy ?? null,
        reason: assessment?.request?.reason ?? null,
        observationDays: assessment?.plan?.observationDays ?? null,
        pendingWindowInDays: assessment?.plan?.pendingWindowInDays ?? null,
        reportText: fromState ?? messageSummary(parsed.data.Message ?? ''),
      },
    };
  }
  return { status: 'NOT_FOUND' };
}

// --- Decisions --------------------------------------------------------------------------------

export interface DecisionForm extends ApprovalLink {
  readonly decision: ApprovalDecisionKind;
  /** Self-declared: the token is the authority, the name is what the person wrote. */
  readonly by: string;
  readonly comment: string;
}

/** Parses the page's `application/x-www-form-urlencoded` POST body. */
export function parseDecisionForm(body: string): DecisionForm {
  const form = new URLSearchParams(body);
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'reject') {
    throw new InvalidDecisionError('Choose Approve or Reject on the approval page.');
  }
  const by = stripControl(form.get('by') ?? '').trim();
  const comment = stripControl(form.get('comment') ?? '', '\n')
    .replaceAll('\r', '')
    .trim();
  if (by.length > MAX_NAME_LENGTH) {
    throw new InvalidDecisionError(`The name may have at most ${MAX_NAME_LENGTH} characters.`);
  }
  if (comment.length > MAX_COMMENT_LENGTH) {
    throw new InvalidDecisionError(`The comment may have at most ${MAX_COMMENT_LENGTH} characters.`);
  }
  return {
    decision,
    executionArn: normalizeExecutionArn(form.get('execution') ?? ''),
    token: normalizeToken(form.get('token') ?? ''),
    by: by.length > 0 ? by : DEFAULT_DECIDER,
    comment,
  };
}

export interface DecisionContext {
  readonly step: ApprovalStep;
  readonly by: string;
  readonly comment: string;
  readonly at: Date;
  readonly sourceIp: string | null;
  readonly userAgent: string | null;
}

/** The output of SendTaskSuccess: it lands in the execution history and at `$.<step>Approval`. */
export interface ApprovalOutput {
  readonly decision: 'approve';
  readonly step: ApprovalStep;
  readonly by: string;
  readonly at: string;
  readonly comment?: string;
  readonly sourceIp: string | null;
  readonly userAgent: string | null;
}

function clip(text: string | null, max: number): string | null {
  if (text === null) return null;
  const clean = stripControl(text);
  return clean.length > max ? clean.slice(0, max) : clean;
}

export function approvalOutput(context: DecisionContext): ApprovalOutput {
  return {
    decision: 'approve',
    step: context.step,
    by: context.by,
    at: context.at.toISOString(),
    ...(context.comment ? { comment: context.comment } : {}),
    sourceIp: clip(context.sourceIp, 64),
    userAgent: clip(context.userAgent, MAX_USER_AGENT_LENGTH),
  };
}

/** The error and cause of SendTaskFailure; the workflow catches the error by name. */
export function rejection(context: DecisionContext): { readonly error: string; readonly cause: string } {
  const from = context.sourceIp ? ` from ${clip(context.sourceIp, 64)}` : '';
  const comment = context.comment ? `: ${context.comment}` : ' (no comment)';
  const cause = `REJECTED on the approval page by ${context.by} at ${context.at.toISOString()}${from}${comment}`;
  return { error: WORKFLOW_ERRORS.rejected, cause: cause.slice(0, MAX_CAUSE_LENGTH) };
}

/** When KMS would delete the key if deletion were approved now (ScheduleKeyDeletion runs right after). */
export function deletionDateIfApprovedAt(now: Date, pendingWindowInDays: number): Date {
  return new Date(now.getTime() + pendingWindowInDays * DAY_MS);
}

// --- HTML ---------------------------------------------------------------------------------------

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#f7f7f7;line-height:1.45}
main{max-width:52rem;margin:0 auto;padding:1.5rem;background:#fff;min-height:100vh;box-sizing:border-box}
h1{font-size:1.5rem;margin-top:0}h2{font-size:1.15rem;margin-top:1.75rem}
table{border-collapse:collapse;width:100%}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #c8c8c8;padding:.4rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f0f0;width:12rem;font-weight:600}td{overflow-wrap:anywhere}td code{word-break:break-all}
pre{white-space:pre-wrap;word-wrap:break-word;background:#f4f4f4;border:1px solid #d8d8d8;padding:.75rem;font-size:.9rem}
.note{border-left:4px solid #0b5fff;padding:.25rem .75rem;background:#eef3ff}
.warn{border-left:4px solid #b00020;padding:.25rem .75rem;background:#fdeeee}
label{display:block;font-weight:600;margin-top:.75rem}
input[type=text],textarea{width:100%;box-sizing:border-box;font:inherit;padding:.4rem;border:1px solid #767676}
.actions{margin-top:1rem;display:flex;gap:.75rem;flex-wrap:wrap}
button{font:inherit;font-weight:600;padding:.6rem 1.4rem;border-radius:4px;border:2px solid transparent;cursor:pointer}
button.approve{background:#0a6b2d;color:#fff}button.reject{background:#fff;color:#b00020;border-color:#b00020}
button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #0b5fff;outline-offset:2px}
`;
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/**
 * Headers of every page: never cached or framed (clickjacking on an Approve button), no referrer
 * (the URL holds the token), no scripts at all, and forms may post only back to this endpoint.
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

function row(label: string, valueHtml: string): string {
  return `<tr><th scope="row">${escapeHtml(label)}</th><td>${valueHtml}</td></tr>`;
}

function code(value: string): string {
  return `<code>${escapeHtml(value)}</code>`;
}

function stepDescription(request: ApprovalRequest, now: Date): string {
  if (request.step === 'disable') {
    const watch =
      request.observationDays === null
        ? ''
        : `, then watch CloudTrail for ${request.observationDays} days for any caller that still needs it`;
    return escapeHtml(
      `Disable the key${watch}. Nothing is deleted at this step; the key is re-enabled if anything breaks.`,
    );
  }
  if (request.pendingWindowInDays === null) {
    return escapeHtml('Schedule the deletion of the key (the pending window is in the report below).');
  }
  const date = deletionDateIfApprovedAt(now, request.pendingWindowInDays);
  return (
    `${escapeHtml(`Schedule the deletion of the key. If approved now, KMS deletes it on `)}` +
    `<time datetime="${escapeHtml(date.toISOString())}">${escapeHtml(formatUtc(date))}</time>` +
    `${escapeHtml(` (in ${request.pendingWindowInDays} days), unless the deletion is cancelled before then.`)}`
  );
}

/** The GET page: what is asked, with Approve / Reject in a POST form that carries the link's values. */
export function renderApprovalPage(request: ApprovalRequest, token: string, now: Date): string {
  const key = request.key;
  const heading =
    request.step === 'disable'
      ? 'Approve disabling a KMS key?'
      : 'Approve scheduling the deletion of a KMS key?';
  const rows = [
    ...(key
      ? [
          row('Key ID', code(key.keyId)),
          row('Key ARN', code(key.keyArn)),
          row('Aliases', key.aliases.length > 0 ? key.aliases.map(code).join(', ') : escapeHtml('(none)')),
          row('Description', escapeHtml(key.description.length > 0 ? key.description : '(none)')),
        ]
      : [row('Key', escapeHtml('See the report below.'))]),
    row('Step', stepDescription(request, now)),
    ...(request.requestedBy ? [row('Requested by', escapeHtml(request.requestedBy))] : []),
    ...(request.reason ? [row('Reason', escapeHtml(request.reason))] : []),
    ...(request.requestedAt
      ? [
          row(
            'Asked at',
            `<time datetime="${escapeHtml(request.requestedAt)}">${escapeHtml(formatUtc(new Date(request.requestedAt)))}</time>`,
          ),
        ]
      : []),
    row('Execution', code(request.executionArn)),
  ];
  const reportHeading = request.step === 'disable' ? 'Assessment' : 'Observation report';
  const approveLabel = request.step === 'disable' ? 'Approve: disable the key' : 'Approve: schedule deletion';
  const body = `<h1>${escapeHtml(heading)}</h1>
<p class="note">Opening this page decided nothing. Read the details, then approve or reject below.</p>
<table>
<caption>${escapeHtml(request.subject)}</caption>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<h2 id="report-heading">${escapeHtml(reportHeading)}</h2>
<pre aria-labelledby="report-heading">${escapeHtml(request.reportText)}</pre>
<h2 id="decision-heading">Your decision</h2>
<form method="post" action="?" aria-labelledby="decision-heading">
<input type="hidden" name="execution" value="${escapeHtml(request.executionArn)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="by">Your name or e-mail</label>
<input type="text" id="by" name="by" maxlength="${MAX_NAME_LENGTH}" autocomplete="email">
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="${MAX_COMMENT_LENGTH}" rows="3"></textarea>
<div class="actions">
<button type="submit" class="approve" name="decision" value="approve">${escapeHtml(approveLabel)}</button>
<button type="submit" class="reject" name="decision" value="reject">Reject</button>
</div>
</form>`;
  return layout(heading, body);
}

/** The page after a decision was accepted by Step Functions. */
export function renderDecisionPage(decision: ApprovalDecisionKind, context: DecisionContext): string {
  const title = decision === 'approve' ? 'Approved' : 'Rejected';
  let next: string;
  if (decision === 'approve') {
    next =
      context.step === 'disable'
        ? 'The workflow continues: it disables the key and starts watching CloudTrail for callers that still need it.'
        : 'The workflow continues: it schedules the deletion of the key and keeps watching during the pending window.';
  } else {
    next =
      context.step === 'disable'
        ? 'The workflow ends; the key was not changed.'
        : 'The workflow ends and re-enables the key it disabled.';
  }
  const body = `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(next)}</p>
<table>
<tbody>
${row('Decided by', escapeHtml(context.by))}
${row('At', `<time datetime="${escapeHtml(context.at.toISOString())}">${escapeHtml(formatUtc(context.at))}</time>`)}
${context.comment ? row('Comment', escapeHtml(context.comment)) : ''}
</tbody>
</table>
<p>The decision is recorded in the execution history. You can close this page.</p>`;
  return layout(title, body);
}

/** A page for a link or decision that cannot be used; never a stack trace. */
export function renderErrorPage(title: string, message: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n<p class="warn">${escapeHtml(message)}</p>`);
}

export interface PageResponse {
  readonly statusCode: number;
  readonly title: string;
  readonly message: string;
}

/** The answer for a lookup that is not PENDING: what happened, in words, with a 4xx status. */
export function lookupProblem(lookup: Exclude<ApprovalLookup, { status: 'PENDING' }>): PageResponse {
  switch (lookup.status) {
    case 'DECIDED':
      return {
        statusCode: 409,
        title: 'Already decided',
        message: `This ${lookup.step === 'disable' ? 'disable' : 'deletion'} request was already decided or has expired. Nothing was changed by opening this link.`,
      };
    case 'EXECUTION_ENDED':
      return {
        statusCode: 410,
        title: 'Workflow already ended',
        message:
          'The workflow execution of this link has ended, so its approval requests are already decided or expired. Nothing was changed by opening this link.',
      };
    case 'NOT_FOUND':
    case 'INCOMPLETE':
      return {
        statusCode: 404,
        title: 'Approval request not found',
        message:
          'This execution has no open approval request for this link. It may have been decided long ago, or the link is incomplete. Nothing was changed.',
      };
  }
}
