/**
 * The approval page behind the link of each approval e-mail: what the link carries, how the pending
 * request is found in the execution history, and what a decision sends back to Step Functions. What
 * the page shows is rendered by approval-page-html.ts.
 *
 * Pure: no AWS SDK. The handler (lambdas/approval) reads the link store and the history and calls
 * Step Functions.
 *
 * Trust: the link carries one value, a random secret (approval-link.ts), nothing else is read from
 * the URL. The stack's link store turns the secret into the task token and the execution; the task
 * token itself, which principals that change nothing can read in the history, decides nothing here.
 * Everything the page shows comes from that execution's history, and only when the history holds a
 * pending approval task whose token is exactly the stored one. Every value is HTML-escaped.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { cliCommand } from '../contracts/cli.js';
import { WORKFLOW_ERRORS } from '../contracts/workflow-errors.js';
import { parseLinkSecret } from './approval-link.js';
import { stripControl } from './assessment-message.js';
import { SELF_DECLARED_LABEL } from './decider.js';
import { InvalidDecisionError } from './errors.js';
import { DAY_MS } from './time.js';
import type { DeciderIdentity } from './types.js';

export type ApprovalStep = 'disable' | 'deletion';
export type ApprovalDecisionKind = 'approve' | 'reject';

export const MAX_NAME_LENGTH = 200;
export const MAX_COMMENT_LENGTH = 2000;
const MAX_USER_AGENT_LENGTH = 512;
/** SendTaskFailure `cause` limit. */
const MAX_CAUSE_LENGTH = 32768;
/** Who decided, when the person left the name field empty. */
export const DEFAULT_DECIDER = 'approval page';

/** Marker that starts the link paragraph of the approval e-mail (lambdas/request-approval). */
export const LINK_PARAGRAPH = '\n\nOpen this page to approve or reject';
const LEGACY_TOKEN_PARAGRAPH = '\n\nApproval token:';

/** What a link carries: its secret, and nothing else. */
export interface ApprovalLink {
  readonly secret: string;
}

/**
 * Reads the secret of a link from the decoded query string; nothing else in the URL is used, so a
 * task token or an execution ARN in any parameter is ignored, and a link without a secret is refused.
 */
export function parseApprovalLink(
  query: Readonly<Record<string, string | undefined>> | null | undefined,
): ApprovalLink {
  return { secret: parseLinkSecret(query?.link) };
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
        /** The task's TimeoutSeconds: for an approval, how long it waits for an answer. */
        readonly timeoutInSeconds?: number | undefined;
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

/** Text the page shows if it is there; anything else in its place counts as absent. */
const optionalText = () => z.catch(z.optional(z.string()), undefined);
const optionalInt = () => z.catch(z.optional(z.number().check(z.int(), z.nonnegative())), undefined);
const optionalFlag = () => z.catch(z.optional(z.boolean()), undefined);

const KeySchema = z.object({
  keyId: z.string(),
  keyArn: z.string(),
  aliases: z.catch(z.array(z.string()), []),
  description: z.catch(z.string(), ''),
  keyState: optionalText(),
  keySpec: optionalText(),
  keyUsage: optionalText(),
  account: optionalText(),
  region: optionalText(),
  creationDate: optionalText(),
  multiRegion: optionalFlag(),
  multiRegionRole: optionalText(),
  replicaCount: optionalInt(),
  tags: z.catch(z.record(z.string(), z.string()), {}),
});

const UsageSchema = z.object({
  classification: z.enum(['USED', 'NEVER_USED', 'UNKNOWN_BEFORE_TRACKING']),
  trackingStartDate: z.string(),
  keyCreationDate: z.string(),
  lastUsage: z.catch(
    z.nullable(
      z.object({
        operation: z.string(),
        timestamp: z.string(),
        cloudTrailEventId: optionalText(),
        kmsRequestId: optionalText(),
      }),
    ),
    null,
  ),
  historySearch: z.catch(
    z.optional(
      z.object({
        searchedFrom: z.string(),
        searchedTo: z.string(),
        lastUseFound: z.catch(
          z.nullable(z.object({ eventName: z.string(), eventTime: z.string(), eventID: z.string() })),
          null,
        ),
      }),
    ),
    undefined,
  ),
});

/** What an approver needs of the key (from the assessment in the state input). */
export type ApprovalKey = z.infer<typeof KeySchema>;
/** The usage history as the assessment classified it (GetKeyLastUsage plus the CloudTrail search). */
export type ApprovalUsage = z.infer<typeof UsageSchema>;

/** The assessment's findings beyond the key (disable and deletion steps alike). */
export interface ApprovalAssessment {
  readonly assessedAt: string | null;
  /** Null when the state input carries no usage the page can read. */
  readonly usage: ApprovalUsage | null;
  readonly warnings: readonly string[];
  readonly checkIntervalSeconds: number | null;
  readonly watchPendingWindow: boolean | null;
}

/** The quiet observation behind a deletion request (deletion step only). */
export interface ApprovalObservation {
  readonly disabledAt: string | null;
  /** True: the key was Enabled before this execution disabled it, so a restore re-enables it. */
  readonly wasEnabled: boolean | null;
  readonly checks: number | null;
  readonly scanned: number | null;
  readonly evidenceCount: number | null;
  /** The workflow's own failing calls on the key, and how many of them the log group showed. */
  readonly canaries: number | null;
  readonly canariesSeen: number | null;
  /** Who approved the disable (the first approval), and when. */
  readonly disableApprovedBy: string | null;
  readonly disableApprovedAt: string | null;
}

/** A pending approval as the execution history shows it. */
export interface ApprovalRequest {
  readonly executionArn: string;
  readonly step: ApprovalStep;
  readonly stateName: string;
  /** When the approval e-mail was sent. */
  readonly requestedAt: string | null;
  /** When the request expires unanswered (the task's timeout after it was sent). */
  readonly expiresAt: string | null;
  readonly subject: string;
  /** Null when the history no longer holds the state's input (the page then shows the e-mail text only). */
  readonly key: ApprovalKey | null;
  readonly requestedBy: string | null;
  readonly reason: string | null;
  readonly observationDays: number | null;
  readonly pendingWindowInDays: number | null;
  /** The stack's idle rule, from the AssessKey task's input when the history read holds it. */
  readonly minIdleDays: number | null;
  readonly assessment: ApprovalAssessment | null;
  readonly observation: ApprovalObservation | null;
  /** The assessment (disable step) or the observation report (deletion step), as plain text. */
  readonly reportText: string;
  /** The stack's approvers when the request was made (empty: anyone who can reach the decision). */
  readonly approvers: readonly string[];
}

export type ApprovalLookup =
  | { readonly status: 'PENDING'; readonly request: ApprovalRequest }
  /** The token's task was answered or otherwise closed. */
  | { readonly status: 'DECIDED'; readonly step: ApprovalStep; readonly closedBy: string }
  /**
   * The token's task timed out: nobody answered in time, the workflow went on without an answer, and
   * no answer can change that any more.
   */
  | {
      readonly status: 'EXPIRED';
      readonly step: ApprovalStep;
      /** When it expired (the TaskTimedOut event, else the task's timeout after it was sent). */
      readonly expiredAt: string | null;
      /** The key's ARN, when the history still holds the approval's input: for the `start` command. */
      readonly keyArn: string | null;
    }
  | { readonly status: 'EXECUTION_ENDED'; readonly endedBy: string }
  /** No approval task of this execution carries the token (in the part of the history read). */
  | { readonly status: 'NOT_FOUND' }
  /** The token's task was found but its state input is in an older page of the history. */
  | { readonly status: 'INCOMPLETE' };

const AttributeValue = z.looseObject({ StringValue: z.optional(z.string()) });
/** An approval task before links had secrets: an SNS publish whose message attribute held the token. */
const PublishParameters = z.looseObject({
  Message: z.optional(z.string()),
  Subject: z.optional(z.string()),
  MessageAttributes: z.optional(z.record(z.string(), AttributeValue)),
});
/** An approval task: the request-approval Lambda, invoked with the token (lambdas/contracts/approval.ts). */
const RequestParameters = z.looseObject({
  Payload: z.looseObject({
    taskToken: z.string(),
    step: z.catch(z.optional(z.enum(['disable', 'deletion'])), undefined),
    subject: z.catch(z.optional(z.string()), undefined),
    text: z.catch(z.optional(z.string()), undefined),
    approvers: z.catch(z.array(z.string()), []),
  }),
});

/** What an approval task's scheduled parameters say, in either form. */
export interface ApprovalTask {
  readonly token: string;
  /** The `step` the request names, when it names one. */
  readonly step: ApprovalStep | null;
  readonly subject: string | null;
  /** The e-mail's text (before the link). */
  readonly text: string | null;
  /** The stack's approvers when the request was made (empty: anyone who can reach the decision). */
  readonly approvers: readonly string[];
}

/**
 * The approval state's input: the workflow's whole state at that point. Every part is optional and
 * read leniently: a part that is missing or has another shape is left out of the page, never an error.
 */
const StateInput = z.looseObject({
  assessment: z.catch(
    z.optional(
      z.looseObject({
        value: z.looseObject({
          key: z.catch(z.nullable(KeySchema), null),
          usage: z.catch(z.nullable(UsageSchema), null),
          warnings: z.catch(z.array(z.string()), []),
          assessedAt: optionalText(),
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
                checkIntervalSeconds: optionalInt(),
                watchPendingWindow: optionalFlag(),
              }),
            ),
            null,
          ),
        }),
      }),
    ),
    undefined,
  ),
  disable: z.catch(
    z.optional(
      z.looseObject({
        value: z.catch(
          z.nullable(z.looseObject({ disabledAt: optionalText(), wasEnabled: optionalFlag() })),
          null,
        ),
      }),
    ),
    undefined,
  ),
  disableApproval: z.catch(
    z.optional(
      z.nullable(
        z.looseObject({
          by: optionalText(),
          at: optionalText(),
          identity: z.catch(z.optional(z.looseObject({ kind: z.string() })), undefined),
          sourceIp: optionalText(),
        }),
      ),
    ),
    undefined,
  ),
  watch: z.catch(
    z.optional(
      z.looseObject({
        value: z.catch(
          z.nullable(
            z.looseObject({
              reportText: optionalText(),
              subject: optionalText(),
              checks: optionalInt(),
              scanned: optionalInt(),
              evidenceCount: optionalInt(),
              canaries: z.catch(z.optional(z.array(z.unknown())), undefined),
              canariesSeen: optionalInt(),
            }),
          ),
          null,
        ),
      }),
    ),
    undefined,
  ),
});
type StateInput = z.infer<typeof StateInput>;

/** The AssessKey task's Lambda input carries the stack configuration, the idle rule among it. */
const AssessTaskParameters = z.looseObject({
  Payload: z.looseObject({
    config: z.looseObject({ minIdleDays: z.number().check(z.int(), z.nonnegative()) }),
  }),
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

/**
 * The approval task a TaskScheduled event schedules, or null for any other event: the
 * request-approval Lambda invoked with `.waitForTaskToken` (its payload holds the token), or an SNS
 * publish with `.waitForTaskToken` of an execution started before links had secrets.
 */
export function approvalTaskOf(event: HistoryEventLike): ApprovalTask | null {
  const details = event.taskScheduledEventDetails;
  if (event.type !== 'TaskScheduled' || !details) return null;
  const parameters = parseJson(details.parameters);
  if (details.resourceType === 'lambda' && details.resource === 'invoke.waitForTaskToken') {
    const parsed = RequestParameters.safeParse(parameters);
    // The watch's tasks are Lambda token tasks too; only the request's payload names a step.
    if (!parsed.success || parsed.data.Payload.step === undefined) return null;
    const payload = parsed.data.Payload;
    return {
      token: payload.taskToken,
      step: payload.step ?? null,
      subject: payload.subject ?? null,
      text: payload.text ?? null,
      approvers: payload.approvers,
    };
  }
  if (details.resourceType === 'sns' && details.resource === 'publish.waitForTaskToken') {
    const parsed = PublishParameters.safeParse(parameters);
    const attributes = parsed.success ? (parsed.data.MessageAttributes ?? {}) : {};
    const token = attributes.taskToken?.StringValue;
    if (!parsed.success || token === undefined) return null;
    const step = attributes.step?.StringValue;
    return {
      token,
      step: step === 'disable' || step === 'deletion' ? step : null,
      subject: parsed.data.Subject ?? null,
      text: parsed.data.Message === undefined ? null : messageSummary(parsed.data.Message),
      approvers: [],
    };
  }
  return null;
}

/** minIdleDays from the newest Lambda task (of the events given) whose input carries the configuration. */
function minIdleDaysIn(events: readonly HistoryEventLike[]): number | null {
  for (const event of events) {
    const details = event.taskScheduledEventDetails;
    if (event.type !== 'TaskScheduled' || details?.resourceType !== 'lambda') continue;
    const parsed = AssessTaskParameters.safeParse(parseJson(details.parameters));
    if (parsed.success) return parsed.data.Payload.config.minIdleDays;
  }
  return null;
}

function expiryOf(event: HistoryEventLike): string | null {
  const timeout = event.taskScheduledEventDetails?.timeoutInSeconds;
  if (!event.timestamp || timeout === undefined || !Number.isFinite(timeout) || timeout <= 0) return null;
  return new Date(event.timestamp.getTime() + timeout * 1000).toISOString();
}

function assessmentOf(state: StateInput | undefined): ApprovalAssessment | null {
  const value = state?.assessment?.value;
  if (!value) return null;
  return {
    assessedAt: value.assessedAt ?? null,
    usage: value.usage,
    warnings: value.warnings,
    checkIntervalSeconds: value.plan?.checkIntervalSeconds ?? null,
    watchPendingWindow: value.plan?.watchPendingWindow ?? null,
  };
}

/** Who approved, with how they are known: a verified identity, or a name only typed (and from where). */
function approvedByWords(
  decision:
    | { by?: string | undefined; identity?: { kind: string } | undefined; sourceIp?: string | undefined }
    | null
    | undefined,
): string | null {
  if (!decision?.by) return null;
  if (decision.identity?.kind === 'iam') return `${decision.by} (IAM identity verified by AWS)`;
  const from = decision.sourceIp ? `, from ${decision.sourceIp}` : '';
  return `${decision.by} (${SELF_DECLARED_LABEL}${from})`;
}

/** Null when the state says nothing about the observation (the page then shows the report's text). */
function observationOf(state: StateInput | undefined): ApprovalObservation | null {
  const watch = state?.watch?.value;
  const disable = state?.disable?.value;
  const observation: ApprovalObservation = {
    disabledAt: disable?.disabledAt ?? null,
    wasEnabled: disable?.wasEnabled ?? null,
    checks: watch?.checks ?? null,
    scanned: watch?.scanned ?? null,
    evidenceCount: watch?.evidenceCount ?? null,
    canaries: watch?.canaries?.length ?? null,
    canariesSeen: watch?.canariesSeen ?? null,
    disableApprovedBy: approvedByWords(state?.disableApproval),
    disableApprovedAt: state?.disableApproval?.at ?? null,
  };
  return Object.values(observation).some((value) => value !== null) ? observation : null;
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
  const ended = newest?.type && EXECUTION_ENDED.has(newest.type) ? newest.type : null;
  let closedBy: string | null = null;
  // The oldest task-closing event seen so far: once the token's task is reached, the one that closed it.
  let closing: HistoryEventLike | null = null;
  for (const [index, event] of eventsNewestFirst.entries()) {
    if (event.type && TASK_CLOSED.has(event.type)) {
      closedBy ??= event.type;
      closing = event;
    }
    const task = approvalTaskOf(event);
    if (task === null || !sameToken(task.token, token)) continue;

    const older = eventsNewestFirst.slice(index + 1);
    const entered = older.find((e) => e.type === 'TaskStateEntered' && e.id === event.previousEventId);
    if (!entered && !historyComplete) return { status: 'INCOMPLETE' };
    const stateName = entered?.stateEnteredEventDetails?.name ?? '';
    const step = stepOf(task.step ?? undefined, stateName);
    if (step === null) return { status: 'NOT_FOUND' };

    const input = StateInput.safeParse(parseJson(entered?.stateEnteredEventDetails?.input));
    const state = input.success ? input.data : undefined;
    const assessment = state?.assessment?.value;
    if (closing?.type === 'TaskTimedOut') {
      return {
        status: 'EXPIRED',
        step,
        expiredAt: closing.timestamp ? closing.timestamp.toISOString() : expiryOf(event),
        keyArn: assessment?.key?.keyArn ?? null,
      };
    }
    if (ended !== null) return { status: 'EXECUTION_ENDED', endedBy: ended };
    if (closedBy !== null) return { status: 'DECIDED', step, closedBy };

    const watch = state?.watch?.value;
    const fromState = step === 'disable' ? assessment?.summaryText : watch?.reportText;
    return {
      status: 'PENDING',
      request: {
        executionArn,
        step,
        stateName,
        requestedAt: event.timestamp ? event.timestamp.toISOString() : null,
        expiresAt: expiryOf(event),
        subject: task.subject ?? (step === 'disable' ? assessment?.subject : watch?.subject) ?? 'Approval',
        key: assessment?.key ?? null,
        requestedBy: assessment?.request?.requestedBy ?? null,
        reason: assessment?.request?.reason ?? null,
        observationDays: assessment?.plan?.observationDays ?? null,
        pendingWindowInDays: assessment?.plan?.pendingWindowInDays ?? null,
        minIdleDays: minIdleDaysIn(older),
        assessment: assessmentOf(state),
        observation: step === 'deletion' ? observationOf(state) : null,
        reportText: fromState ?? messageSummary(task.text ?? ''),
        approvers: task.approvers,
      },
    };
  }
  if (ended !== null) {
    // The token's task may lie in an older page: read on, to tell an expired approval from the rest.
    return historyComplete ? { status: 'EXECUTION_ENDED', endedBy: ended } : { status: 'INCOMPLETE' };
  }
  return { status: 'NOT_FOUND' };
}

/**
 * True once a pending request's timeout has passed: Step Functions may not have closed the task yet,
 * but an answer now would come after the expiry the e-mail announced, and must change nothing.
 */
export function isPastExpiry(request: Pick<ApprovalRequest, 'expiresAt'>, now: Date): boolean {
  const expiresAt = request.expiresAt === null ? Number.NaN : Date.parse(request.expiresAt);
  return !Number.isNaN(expiresAt) && now.getTime() >= expiresAt;
}

/** What an expired approval meant for the key, and what a person can do now. */
export function expiredApprovalText(args: {
  readonly step: ApprovalStep;
  readonly expiredAt: string | null;
  readonly keyArn: string | null;
}): string {
  const what = args.step === 'disable' ? 'disable' : 'deletion';
  const when = args.expiredAt ? ` at ${args.expiredAt}` : '';
  const outcome =
    args.step === 'disable'
      ? 'The execution ended APPROVAL_EXPIRED before it disabled the key, which stays as it was.'
      : 'The execution ended APPROVAL_EXPIRED without scheduling the deletion, and re-enabled the key if it ' +
        'had disabled it.';
  const start = cliCommand(`start ${args.keyArn ?? '<key ARN>'}`);
  return (
    `This ${what} approval expired${when}; nothing was changed by this answer. ${outcome} To retire the key, ` +
    `start a new execution (${start}).`
  );
}

// --- Decisions --------------------------------------------------------------------------------

export interface DecisionForm extends ApprovalLink {
  readonly decision: ApprovalDecisionKind;
  /** Self-declared: what the person typed; nothing verifies it. */
  readonly by: string;
  readonly comment: string;
}

/** What a browser says about where a POST came from (any of them may be absent). */
export interface RequestOrigin {
  /** The `Origin` header. */
  readonly origin: string | null;
  /** The `Sec-Fetch-Site` header: `same-origin`, `same-site`, `cross-site` or `none`. */
  readonly secFetchSite: string | null;
  /** The host the page was served from (`Host` header, or API Gateway's domain name). */
  readonly host: string | null;
}

/**
 * Why a POST must decide nothing because another site sent it, or null when it came from the page
 * itself. A page elsewhere can make a visitor's browser submit a form here (with a token it read
 * somewhere); the browser says where the form came from, and a page cannot forge what it says.
 * Current browsers send `Sec-Fetch-Site`, which is decisive: only `same-origin` (or `none`, a request
 * the person made directly) may decide. Without it, `Origin` must name this host. The page is served
 * with no referrer, so a browser's own form POST carries `Origin: null`; that is accepted only where
 * `Sec-Fetch-Site` vouches for it, because a sandboxed frame elsewhere sends `null` too. A request
 * with neither header does not come from a browser form, so these headers have nothing to say there.
 */
export function crossSiteProblem(request: RequestOrigin): string | null {
  const site = request.secFetchSite?.trim().toLowerCase() ?? null;
  if (site !== null) {
    if (site === 'same-origin' || site === 'none') return null;
    return `The browser reports this form was sent from another site (Sec-Fetch-Site: ${site}).`;
  }
  if (request.origin === null) return null;
  let originHost: string | null = null;
  try {
    originHost = new URL(request.origin).host.toLowerCase();
  } catch {
    originHost = null;
  }
  if (originHost === null || originHost === '' || request.host === null) {
    return 'The browser does not say this form was sent from the approval page itself (use a current browser).';
  }
  if (originHost !== request.host.trim().toLowerCase()) {
    return `The form was sent from another site (${originHost}), not from the approval page.`;
  }
  return null;
}

/**
 * Parses the page's `application/x-www-form-urlencoded` POST body. The secret travels in the `link`
 * field the page put in its form; a task token in any field is not read.
 */
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
    secret: parseLinkSecret(form.get('link')),
    by: by.length > 0 ? by : DEFAULT_DECIDER,
    comment,
  };
}

/** A decision as the page received it, with what its request proves. */
export interface DecisionContext {
  readonly step: ApprovalStep;
  /** The name as typed (self-declared) or the verified identity. */
  readonly by: string;
  readonly identity: DeciderIdentity;
  readonly comment: string;
  readonly at: Date;
  /** API Gateway's `requestContext.identity`: what the connection proves, not who the person is. */
  readonly sourceIp: string | null;
  readonly userAgent: string | null;
}

/** The output of SendTaskSuccess: it lands in the execution history and at `$.<step>Approval`. */
export interface ApprovalOutput {
  readonly decision: 'approve';
  readonly step: ApprovalStep;
  readonly by: string;
  readonly identity: DeciderIdentity;
  readonly via: 'approval-page';
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
    identity: context.identity,
    via: 'approval-page',
    at: context.at.toISOString(),
    ...(context.comment ? { comment: context.comment } : {}),
    sourceIp: clip(context.sourceIp, 64),
    userAgent: clip(context.userAgent, MAX_USER_AGENT_LENGTH),
  };
}

/** How the decider is named in a cause or an e-mail: a typed name says it was only typed. */
function deciderWords(context: DecisionContext): string {
  return context.identity.kind === 'self-declared'
    ? `${context.by} (${SELF_DECLARED_LABEL})`
    : `${context.by} (IAM identity verified by AWS)`;
}

/** The error and cause of SendTaskFailure; the workflow catches the error by name. */
export function rejection(context: DecisionContext): { readonly error: string; readonly cause: string } {
  const source = [clip(context.sourceIp, 64), clip(context.userAgent, 120)].filter((part) => part).join(', ');
  const from = source ? ` from ${source}` : '';
  const comment = context.comment ? `: ${context.comment}` : ' (no comment)';
  const cause = `REJECTED on the approval page by ${deciderWords(context)} at ${context.at.toISOString()}${from}${comment}`;
  return { error: WORKFLOW_ERRORS.rejected, cause: cause.slice(0, MAX_CAUSE_LENGTH) };
}

/** When KMS would delete the key if deletion were approved now (ScheduleKeyDeletion runs right after). */
export function deletionDateIfApprovedAt(now: Date, pendingWindowInDays: number): Date {
  return new Date(now.getTime() + pendingWindowInDays * DAY_MS);
}

export interface PageResponse {
  readonly statusCode: number;
  readonly title: string;
  readonly message: string;
}

/** The answer for a lookup that is not PENDING: what happened, in words, with a 4xx status. */
export function lookupProblem(lookup: Exclude<ApprovalLookup, { status: 'PENDING' }>): PageResponse {
  switch (lookup.status) {
    case 'EXPIRED':
      return { statusCode: 410, title: 'This approval expired', message: expiredApprovalText(lookup) };
    case 'DECIDED':
      return {
        statusCode: 409,
        title: 'Already decided',
        message: `This ${lookup.step === 'disable' ? 'disable' : 'deletion'} request was already decided. Nothing was changed by opening this link.`,
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

/** The answer for a link already spent by a decision (its expiry is worded by expiredApprovalText). */
export const USED_LINK: PageResponse = {
  statusCode: 409,
  title: 'Already decided',
  message:
    'This link was already used for a decision; each link decides once. Nothing was changed by opening it again.',
};

/** The answer for a secret the store does not hold: never issued, mistyped, or long gone. */
export const UNKNOWN_LINK: PageResponse = {
  statusCode: 404,
  title: 'Approval request not found',
  message:
    'This link does not belong to any approval request. Open the link from the approval e-mail again, in full. Nothing was changed.',
};

/**
 * Why the page must not take a decision on this request, or null when it may. With an approvers list
 * only a known decider may decide, and the page knows nobody: a typed name is not an identity.
 */
export function pageDecisionProblem(request: ApprovalRequest): string | null {
  if (request.approvers.length === 0) return null;
  return (
    'This stack lets only its named approvers decide, and this page cannot verify who you are. ' +
    `Decide with the CLI, which records your AWS identity: ${cliCommand(`approve ${request.executionArn} --step ${request.step}`)} (or reject).`
  );
}
