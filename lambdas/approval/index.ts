import type { HistoryEvent } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { readApprovalLink, spendApprovalLink, unspendApprovalLink } from '../aws/approval-link-reader.js';
import { sfnClient } from '../aws/clients.js';
import { readEnvironment } from '../aws/environment.js';
import { readHistoryPage } from '../aws/execution-history.js';
import { createLogger } from '../aws/logger.js';
import { failTask, succeedTask } from '../aws/task-answers.js';
import { approvalEnvironment } from '../contracts/environment.js';
import {
  type ApprovalLinkRecord,
  linkFingerprint,
  linkSecretHash,
  linkStatus,
} from '../domain/approval-link.js';
import {
  type ApprovalLookup,
  type ApprovalRequest,
  approvalOutput,
  crossSiteProblem,
  type DecisionContext,
  expiredApprovalText,
  isPastExpiry,
  lookupApproval,
  lookupProblem,
  type PageResponse,
  pageDecisionProblem,
  parseApprovalLink,
  parseDecisionForm,
  rejection,
  UNKNOWN_LINK,
  USED_LINK,
} from '../domain/approval-page.js';
import {
  PAGE_HEADERS,
  renderApprovalPage,
  renderDecisionPage,
  renderErrorPage,
} from '../domain/approval-page-html.js';
import { SELF_DECLARED_LABEL } from '../domain/decider.js';
import { InvalidApprovalLinkError, InvalidDecisionError } from '../domain/errors.js';

const logger = createLogger('approval');

/**
 * The approval page behind API Gateway (REST API, Lambda proxy integration).
 *
 * The link carries a secret, not the task token: the link store (written by the request-approval
 * function, read only by this one) turns the secret's digest into the token, its execution and step.
 * A task token, which principals that change nothing read in the execution history, decides nothing
 * here in any parameter. Each link decides once: the decision spends it in the store (a conditional
 * write) before Step Functions is told.
 *
 * GET shows the pending request and decides nothing, so a mail scanner that fetches the link changes
 * nothing; only the page's POST, from the page itself, decides. Both check in the execution history
 * that the stored token's approval is still pending.
 *
 * The decision records what the request proves (API Gateway's source IP and user agent, the time)
 * and the name the person typed, labelled self-declared: the page verifies no identity. With an
 * approvers list configured, the page decides nothing (the CLI, which records the caller's IAM
 * identity, does).
 *
 * The decision is not written to the key's tags here: that would need kms:TagResource on every key
 * for a Lambda that is reachable from the internet. The workflow's next step, which already may tag
 * the key, records it.
 *
 * Secrets and tokens are never logged (only the link's fingerprint), and neither are SDK error
 * messages, which may quote a token: only error names.
 */

/** At most this many history pages (100 events each) are read to find an approval. */
export const MAX_HISTORY_PAGES = 10;

/** A field API Gateway may leave out or set to null. */
const absentable = <T extends z.ZodMiniType>(schema: T) => z.optional(z.nullable(schema));
const ProxyEvent = z.looseObject({
  httpMethod: z.string(),
  queryStringParameters: absentable(z.record(z.string(), z.optional(z.string()))),
  headers: absentable(z.record(z.string(), z.optional(z.string()))),
  body: absentable(z.string()),
  isBase64Encoded: absentable(z.boolean()),
  requestContext: z.optional(
    z.looseObject({
      domainName: absentable(z.string()),
      identity: z.optional(
        z.looseObject({ sourceIp: absentable(z.string()), userAgent: absentable(z.string()) }),
      ),
    }),
  ),
});
type ProxyEvent = z.infer<typeof ProxyEvent>;

export interface ProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function page(statusCode: number, body: string, extraHeaders: Record<string, string> = {}): ProxyResult {
  return { statusCode, headers: { ...PAGE_HEADERS, ...extraHeaders }, body };
}

function problem(statusCode: number, title: string, message: string): ProxyResult {
  return page(statusCode, renderErrorPage(title, message));
}

function answer(response: PageResponse): ProxyResult {
  return problem(response.statusCode, response.title, response.message);
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'UnknownError';
}

const UNAVAILABLE = (): ProxyResult =>
  problem(
    503,
    'Try again in a minute',
    'The approval service could not be reached just now. Nothing was decided; reload the page to try again.',
  );

function isResult<T extends object>(value: T | ProxyResult): value is ProxyResult {
  return 'statusCode' in value;
}

/** The stored link of a secret, if it can still decide; otherwise the page that says why not. */
async function usableLink(secret: string, now: Date): Promise<ApprovalLinkRecord | ProxyResult> {
  const { linksTable } = readEnvironment(approvalEnvironment);
  const link = linkFingerprint(secret);
  let record: ApprovalLinkRecord | null;
  try {
    record = await readApprovalLink(linksTable, linkSecretHash(secret));
  } catch (error) {
    // A store that cannot be read is never "no such link": the person may try again.
    logger.warn('Link store read failed', { errorName: errorName(error), link });
    return UNAVAILABLE();
  }
  if (record === null) {
    logger.info('Unknown approval link', { link });
    return answer(UNKNOWN_LINK);
  }
  const status = linkStatus(record, now);
  if (status !== 'USABLE') {
    logger.info('Approval link can no longer decide', {
      link,
      status,
      executionArn: record.executionArn,
      step: record.step,
    });
    return status === 'USED'
      ? answer(USED_LINK)
      : expiredPage({ step: record.step, expiredAt: record.expiresAt, keyArn: record.keyArn });
  }
  return record;
}

/** Reads the history newest first until the stored token's approval task (and its state input) is found. */
async function findApproval(record: ApprovalLinkRecord, link: string): Promise<ApprovalLookup | ProxyResult> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let pageNumber = 0; pageNumber < MAX_HISTORY_PAGES; pageNumber++) {
    try {
      const response = await readHistoryPage(sfnClient(), record.executionArn, {
        maxResults: 100,
        newestFirst: true,
        nextToken,
      });
      events.push(...response.events);
      nextToken = response.nextToken;
    } catch (error) {
      const name = errorName(error);
      logger.warn('GetExecutionHistory failed', { errorName: name, executionArn: record.executionArn, link });
      // AccessDenied: IAM allows only this workflow's executions, so another ARN is "not found" here.
      if (name === 'ExecutionDoesNotExist' || name === 'AccessDeniedException' || name === 'InvalidArn') {
        return answer(UNKNOWN_LINK);
      }
      return UNAVAILABLE();
    }
    const lookup = lookupApproval(events, record.executionArn, record.taskToken, nextToken === undefined);
    if (lookup.status !== 'NOT_FOUND' && lookup.status !== 'INCOMPLETE') return checkedStep(lookup, record);
    if (nextToken === undefined) return lookup;
  }
  // Pages exhausted: show what the task itself carries rather than nothing.
  return checkedStep(lookupApproval(events, record.executionArn, record.taskToken, true), record);
}

/** A pending request of another step than the link's is no request of this link (fail closed). */
function checkedStep(lookup: ApprovalLookup, record: ApprovalLinkRecord): ApprovalLookup {
  if (lookup.status === 'PENDING' && lookup.request.step !== record.step) return { status: 'NOT_FOUND' };
  return lookup;
}

/** The stored link and its pending request, or the page that says why there is none. */
async function pendingRequest(
  secret: string,
  now: Date,
): Promise<
  { record: ApprovalLinkRecord; lookup: Extract<ApprovalLookup, { status: 'PENDING' }> } | ProxyResult
> {
  const record = await usableLink(secret, now);
  if (isResult(record)) return record;
  const lookup = await findApproval(record, linkFingerprint(secret));
  if (isResult(lookup)) return lookup;
  if (lookup.status !== 'PENDING') {
    logger.info('Nothing pending for the link', {
      link: linkFingerprint(secret),
      executionArn: record.executionArn,
      status: lookup.status,
    });
    return answer(lookupProblem(lookup));
  }
  return { record, lookup };
}

/** What SendTaskSuccess / SendTaskFailure answer for a token that no longer waits for an answer. */
const TOKEN_CLOSED: ReadonlySet<string> = new Set(['TaskDoesNotExist', 'InvalidToken', 'TaskTimedOut']);

function expiredPage(expired: Parameters<typeof expiredApprovalText>[0]): ProxyResult {
  return problem(410, 'This approval expired', expiredApprovalText(expired));
}

/**
 * The token closed between the check and the answer. The history says why: the approval expired
 * (its timeout came first), or someone else answered. Either way this answer changed nothing.
 */
async function closedBetween(
  record: ApprovalLinkRecord,
  request: ApprovalRequest,
  link: string,
): Promise<ProxyResult> {
  const again = await findApproval(record, link);
  if (!isResult(again) && again.status === 'EXPIRED') {
    return expiredPage(again);
  }
  if (isPastExpiry(request, new Date())) {
    return expiredPage({
      step: request.step,
      expiredAt: request.expiresAt,
      keyArn: request.key?.keyArn ?? null,
    });
  }
  return problem(
    409,
    'Already decided',
    'This request was already decided, so this decision was not recorded. Nothing was changed by this answer.',
  );
}

async function show(event: ProxyEvent): Promise<ProxyResult> {
  const { secret } = parseApprovalLink(event.queryStringParameters);
  const now = new Date();
  const found = await pendingRequest(secret, now);
  if (isResult(found)) return found;
  const { request } = found.lookup;
  const refusal = pageDecisionProblem(request);
  logger.info('Approval page shown', {
    link: linkFingerprint(secret),
    executionArn: request.executionArn,
    step: request.step,
    canDecide: refusal === null,
  });
  return page(
    200,
    renderApprovalPage(
      request,
      secret,
      now,
      refusal === null ? { canDecide: true } : { canDecide: false, reason: refusal },
    ),
  );
}

function header(event: ProxyEvent, name: string): string | null {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name && value !== undefined) return value;
  }
  return null;
}

async function decide(event: ProxyEvent): Promise<ProxyResult> {
  const sender = { origin: header(event, 'origin'), secFetchSite: header(event, 'sec-fetch-site') };
  const crossSite = crossSiteProblem({
    ...sender,
    host: header(event, 'host') ?? event.requestContext?.domainName ?? null,
  });
  if (crossSite !== null) {
    logger.warn('Decision refused: sent from another site', sender);
    return problem(403, 'Not sent from the approval page', `${crossSite} Nothing was decided.`);
  }
  const raw = event.body ?? '';
  const form = parseDecisionForm(event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw);
  const now = new Date();
  // The POST is checked like the GET: the page promised what this link decides.
  const found = await pendingRequest(form.secret, now);
  if (isResult(found)) return found;
  const { record } = found;
  const { request } = found.lookup;
  const link = linkFingerprint(form.secret);
  const fields = { link, executionArn: record.executionArn, step: record.step, keyArn: record.keyArn };
  const refusal = pageDecisionProblem(request);
  if (refusal !== null) {
    logger.warn('Decision refused: only named approvers decide', fields);
    return problem(403, 'Decide with the CLI', `${refusal} Nothing was decided.`);
  }
  // The timeout has passed though Step Functions may not have closed the task yet: an answer now comes
  // after the expiry the e-mail announced, and must change nothing.
  if (isPastExpiry(request, now)) {
    logger.info('Decision refused, approval expired', { ...fields, expiresAt: request.expiresAt });
    return expiredPage({
      step: request.step,
      expiredAt: request.expiresAt,
      keyArn: request.key?.keyArn ?? null,
    });
  }
  const context: DecisionContext = {
    step: request.step,
    by: form.by,
    identity: { kind: 'self-declared' },
    comment: form.comment,
    at: now,
    sourceIp: event.requestContext?.identity?.sourceIp ?? null,
    userAgent: event.requestContext?.identity?.userAgent ?? header(event, 'user-agent'),
  };
  const { linksTable } = readEnvironment(approvalEnvironment);
  let spent: boolean;
  try {
    spent = await spendApprovalLink(linksTable, linkSecretHash(form.secret), form.decision, now);
  } catch (error) {
    logger.warn('Link store update failed', { ...fields, errorName: errorName(error) });
    return UNAVAILABLE();
  }
  if (!spent) {
    // Another decision spent the link between the read and now (a double submit), or it expired.
    logger.info('Decision refused: link already spent', fields);
    return answer(USED_LINK);
  }
  try {
    if (form.decision === 'approve') {
      await succeedTask(sfnClient(), record.taskToken, JSON.stringify(approvalOutput(context)));
    } else {
      await failTask(sfnClient(), record.taskToken, rejection(context));
    }
  } catch (error) {
    const name = errorName(error);
    logger.warn('Decision not accepted by Step Functions', { ...fields, errorName: name });
    if (TOKEN_CLOSED.has(name)) {
      // The link stays spent: the task it stood for can take no answer any more.
      return closedBetween(record, request, link);
    }
    // The decision never reached Step Functions: give the link back so the person can try again.
    try {
      await unspendApprovalLink(linksTable, linkSecretHash(form.secret), now);
    } catch (undo) {
      logger.error('Spent link could not be given back', { ...fields, errorName: errorName(undo) });
    }
    return UNAVAILABLE();
  }
  logger.info('Decision recorded', {
    ...fields,
    decision: form.decision,
    by: form.by,
    identity: SELF_DECLARED_LABEL,
    sourceIp: context.sourceIp,
    userAgent: context.userAgent,
    at: now.toISOString(),
  });
  return page(200, renderDecisionPage(form.decision, context, request));
}

export async function handler(rawEvent: unknown): Promise<ProxyResult> {
  const parsed = ProxyEvent.safeParse(rawEvent);
  if (!parsed.success) {
    logger.error('Not an API Gateway proxy event');
    return problem(400, 'Bad request', 'This endpoint serves the approval page only.');
  }
  const event = parsed.data;
  try {
    if (event.httpMethod === 'GET') return await show(event);
    if (event.httpMethod === 'POST') return await decide(event);
    return page(405, renderErrorPage('Method not allowed', 'Open the link from the e-mail.'), {
      Allow: 'GET, POST',
    });
  } catch (error) {
    if (error instanceof InvalidApprovalLinkError || error instanceof InvalidDecisionError) {
      return problem(400, 'This link cannot be used', `${error.message} Nothing was changed.`);
    }
    logger.error('Approval page failed', { errorName: errorName(error) });
    return problem(500, 'Something went wrong', 'Nothing was decided. Reload the page to try again.');
  }
}
