import type { HistoryEvent } from '@aws-sdk/client-sfn';
import * as z from 'zod/mini';
import { sfnClient } from '../aws/clients.js';
import { readHistoryPage } from '../aws/execution-history.js';
import { createLogger } from '../aws/logger.js';
import { failTask, succeedTask } from '../aws/task-answers.js';
import {
  type ApprovalLink,
  type ApprovalLookup,
  type ApprovalRequest,
  approvalOutput,
  crossSiteProblem,
  type DecisionContext,
  expiredApprovalText,
  isPastExpiry,
  lookupApproval,
  lookupProblem,
  parseApprovalLink,
  parseDecisionForm,
  rejection,
  tokenFingerprint,
} from '../domain/approval-page.js';
import {
  PAGE_HEADERS,
  renderApprovalPage,
  renderDecisionPage,
  renderErrorPage,
} from '../domain/approval-page-html.js';
import { InvalidApprovalLinkError, InvalidDecisionError } from '../domain/errors.js';

const logger = createLogger('approval');

/**
 * The approval page behind API Gateway (REST API, Lambda proxy integration).
 *
 * GET shows the pending request and decides nothing, so a mail scanner that fetches the link
 * changes nothing; only the page's POST calls SendTaskSuccess / SendTaskFailure. Both verify in the
 * execution history that the token belongs to a pending approval of the execution in the link.
 *
 * The decision is not written to the key's tags here: that would need kms:TagResource on every key
 * for a Lambda that is reachable from the internet. The decision is in the execution history (task
 * output or failure cause), and the workflow's next step, which already may tag the key, records it.
 *
 * The task token is a credential: it is never logged (only `tokenFingerprint`), and SDK error
 * messages, which may quote it, are not logged either (only error names).
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

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'UnknownError';
}

const UNAVAILABLE = (): ProxyResult =>
  problem(
    503,
    'Try again in a minute',
    'Step Functions could not be reached just now. Nothing was decided; reload the page to try again.',
  );

/** Reads the history newest first until the token's approval task (and its state input) is found. */
async function findApproval(link: ApprovalLink): Promise<ApprovalLookup | ProxyResult> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let pageNumber = 0; pageNumber < MAX_HISTORY_PAGES; pageNumber++) {
    try {
      const response = await readHistoryPage(sfnClient(), link.executionArn, {
        maxResults: 100,
        newestFirst: true,
        nextToken,
      });
      events.push(...response.events);
      nextToken = response.nextToken;
    } catch (error) {
      const name = errorName(error);
      logger.warn('GetExecutionHistory failed', {
        errorName: name,
        executionArn: link.executionArn,
        tokenHash: tokenFingerprint(link.token),
      });
      // AccessDenied: IAM allows only this workflow's executions, so another ARN is "not found" here.
      if (name === 'ExecutionDoesNotExist' || name === 'AccessDeniedException' || name === 'InvalidArn') {
        return problem(
          404,
          'Approval request not found',
          'The execution named in the link does not exist in this workflow. Nothing was changed.',
        );
      }
      return UNAVAILABLE();
    }
    const lookup = lookupApproval(events, link.executionArn, link.token, nextToken === undefined);
    if (lookup.status !== 'NOT_FOUND' && lookup.status !== 'INCOMPLETE') return lookup;
    if (nextToken === undefined) return lookup;
  }
  // Pages exhausted: show what the task itself carries rather than nothing.
  return lookupApproval(events, link.executionArn, link.token, true);
}

function isResult(value: ApprovalLookup | ProxyResult): value is ProxyResult {
  return 'statusCode' in value;
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
async function closedBetween(link: ApprovalLink, request: ApprovalRequest): Promise<ProxyResult> {
  const again = await findApproval(link);
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
  const link = parseApprovalLink(event.queryStringParameters);
  const lookup = await findApproval(link);
  if (isResult(lookup)) return lookup;
  const fields = { executionArn: link.executionArn, tokenHash: tokenFingerprint(link.token) };
  if (lookup.status !== 'PENDING') {
    logger.info('Approval link opened, nothing pending', { ...fields, status: lookup.status });
    const { statusCode, title, message } = lookupProblem(lookup);
    return problem(statusCode, title, message);
  }
  logger.info('Approval page shown', { ...fields, step: lookup.request.step });
  return page(200, renderApprovalPage(lookup.request, link.token, new Date()));
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
  // The POST is checked like the GET: the page promised what this token decides.
  const lookup = await findApproval(form);
  if (isResult(lookup)) return lookup;
  const fields = { executionArn: form.executionArn, tokenHash: tokenFingerprint(form.token) };
  if (lookup.status !== 'PENDING') {
    logger.info('Decision refused, nothing pending', { ...fields, status: lookup.status });
    const { statusCode, title, message } = lookupProblem(lookup);
    return problem(statusCode, title, message);
  }
  // The timeout has passed though Step Functions may not have closed the task yet: an answer now comes
  // after the expiry the e-mail announced, and must change nothing.
  const now = new Date();
  if (isPastExpiry(lookup.request, now)) {
    logger.info('Decision refused, approval expired', { ...fields, expiresAt: lookup.request.expiresAt });
    return expiredPage({
      step: lookup.request.step,
      expiredAt: lookup.request.expiresAt,
      keyArn: lookup.request.key?.keyArn ?? null,
    });
  }
  const context: DecisionContext = {
    step: lookup.request.step,
    by: form.by,
    comment: form.comment,
    at: now,
    sourceIp: event.requestContext?.identity?.sourceIp ?? null,
    userAgent: event.requestContext?.identity?.userAgent ?? header(event, 'user-agent'),
  };
  try {
    if (form.decision === 'approve') {
      await succeedTask(sfnClient(), form.token, JSON.stringify(approvalOutput(context)));
    } else {
      await failTask(sfnClient(), form.token, rejection(context));
    }
  } catch (error) {
    const name = errorName(error);
    logger.warn('Decision not accepted by Step Functions', { ...fields, errorName: name });
    if (TOKEN_CLOSED.has(name)) {
      return closedBetween(form, lookup.request);
    }
    return UNAVAILABLE();
  }
  logger.info('Decision recorded', { ...fields, step: context.step, decision: form.decision, by: form.by });
  return page(200, renderDecisionPage(form.decision, context, lookup.request));
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
