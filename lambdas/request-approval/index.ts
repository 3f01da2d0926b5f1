import { saveApprovalLink } from '../aws/approval-link-writer.js';
import { readEnvironment } from '../aws/environment.js';
import { createLogger } from '../aws/logger.js';
import { publish } from '../aws/notifications.js';
import {
  APPROVAL_REQUEST_KIND,
  type RequestApprovalResult,
  requestApprovalEventSchema,
} from '../contracts/approval.js';
import { requestApprovalEnvironment } from '../contracts/environment.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import {
  approvalLinkUrl,
  linkExpiry,
  linkFingerprint,
  linkRetentionEpochSeconds,
  linkSecretHash,
  newLinkSecret,
} from '../domain/approval-link.js';
import { approvalMessage } from '../domain/approval-request.js';
import { InvalidHandlerEventError } from '../domain/errors.js';
import { toSubject } from '../domain/subject.js';

const logger = createLogger('request-approval');

/**
 * RequestDisableApproval / RequestDeletionApproval: the workflow invokes this function with the task
 * token and waits until the approval page (or the CLI) answers it.
 *
 * The token is no credential for the page: it is in this function's payload, so anyone who may read
 * the execution history reads it. This function makes the credential: a fresh random secret, which
 * goes only into the e-mail's link. The link store keeps the secret's SHA-256 digest beside the token,
 * the execution, the step, the key and the expiry; only the approval page may read the store. The
 * secret is never returned (the history keeps the result), logged, or sent as a message attribute.
 */
export async function handler(rawEvent: unknown): Promise<RequestApprovalResult> {
  const parsed = safeParseContract(requestApprovalEventSchema, rawEvent);
  if (!parsed.success) {
    throw new InvalidHandlerEventError(
      `The approval request received an event that is not an approval task: ${describeIssues(parsed.error.issues, 3)}`,
    );
  }
  const event = parsed.data;
  const settings = readEnvironment(requestApprovalEnvironment);
  const now = new Date();
  const expiresAt = linkExpiry(now, event.timeoutSeconds);

  const secret = newLinkSecret();
  await saveApprovalLink(
    settings.linksTable,
    {
      linkHash: linkSecretHash(secret),
      taskToken: event.taskToken,
      executionArn: event.executionArn,
      step: event.step,
      keyArn: event.keyArn,
      createdAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
    },
    linkRetentionEpochSeconds(expiresAt),
  );
  // Only stored links are sent: a link in an e-mail always leads somewhere.
  await publish(settings.topicArn, {
    subject: toSubject(event.subject),
    text: approvalMessage({
      step: event.step,
      text: event.text,
      link: approvalLinkUrl(settings.pageUrl, secret),
      expiresAt,
      previousDecision: event.previousDecision ?? null,
    }),
    attributes: { kind: APPROVAL_REQUEST_KIND, step: event.step, execution: event.executionArn },
  });

  const link = linkFingerprint(secret);
  logger.info('Approval requested', {
    executionArn: event.executionArn,
    step: event.step,
    keyArn: event.keyArn,
    link,
    expiresAt: expiresAt.toISOString(),
  });
  return { link, step: event.step, expiresAt: expiresAt.toISOString() };
}
