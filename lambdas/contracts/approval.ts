import * as z from 'zod/mini';
import { EXECUTION_ARN } from './events.js';

/**
 * The approval request's contracts: what the workflow's approval task hands the request-approval
 * Lambda (with the task token), and how the link store keeps a link. The construct builds the
 * payload and the table from these names; the handlers parse with these schemas.
 */

/** The approval steps of the workflow. */
export const APPROVAL_STEPS = ['disable', 'deletion'] as const;

/** The `kind` message attribute of an approval e-mail, by which subscribers and the simulator tell it apart. */
export const APPROVAL_REQUEST_KIND = 'approval-request';

// The previous decision, as the task output recorded it: only its shape is trusted (free text).
const previousDecision = /* @__PURE__ */ (() =>
  z.looseObject({
    decision: z.literal('approve'),
    by: z.string(),
    at: z.string(),
    comment: z.optional(z.string()),
    identity: z.optional(
      z.union([
        z.looseObject({ kind: z.literal('self-declared') }),
        z.looseObject({ kind: z.literal('iam'), arn: z.string(), userId: z.string(), account: z.string() }),
      ]),
    ),
    via: z.optional(z.enum(['approval-page', 'cli'])),
    sourceIp: z.optional(z.nullable(z.string())),
    userAgent: z.optional(z.nullable(z.string())),
  }))();

/**
 * RequestDisableApproval / RequestDeletionApproval: the Lambda invoked with `.waitForTaskToken`. The
 * token is in here, and so in the execution history: that is why it decides nothing on its own.
 */
export const requestApprovalEventSchema = /* @__PURE__ */ (() =>
  z.object({
    executionArn: z.string().check(z.regex(EXECUTION_ARN)),
    taskToken: z.string().check(z.minLength(1), z.maxLength(2048)),
    step: z.enum(APPROVAL_STEPS),
    /** The e-mail's subject and its text above the link. */
    subject: z.string().check(z.minLength(1)),
    text: z.string(),
    keyArn: z.string().check(z.startsWith('arn:')),
    /** The approval task's TimeoutSeconds: the link expires with the request. */
    timeoutSeconds: z.number().check(z.int(), z.positive()),
    /** The stack's approvers (empty: anyone who can reach the decision). */
    approvers: z._default(z.array(z.string()), []),
    /** The disable decision, named in the deletion request's e-mail. */
    previousDecision: z.optional(z.nullable(previousDecision)),
  }))();
export type RequestApprovalEvent = z.output<typeof requestApprovalEventSchema>;

/** What the request-approval Lambda returns (the execution history keeps it): never the secret. */
export interface RequestApprovalResult {
  /** A name of the link for logs (approval-link.ts `linkFingerprint`), not a way to it. */
  readonly link: string;
  readonly step: (typeof APPROVAL_STEPS)[number];
  readonly expiresAt: string;
}

/** The link store's attribute names (one item per link, keyed by the secret's digest). */
export const LINK_ATTRIBUTES = {
  hash: 'linkHash',
  taskToken: 'taskToken',
  executionArn: 'executionArn',
  step: 'step',
  keyArn: 'keyArn',
  createdAt: 'createdAt',
  expiresAt: 'expiresAt',
  usedAt: 'usedAt',
  usedFor: 'usedFor',
  /** DynamoDB's TTL attribute (epoch seconds): when the store may drop the item. */
  retainUntil: 'retainUntil',
} as const;
