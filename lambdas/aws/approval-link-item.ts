import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod/mini';
import { LINK_ATTRIBUTES as A, APPROVAL_STEPS } from '../contracts/approval.js';
import type { ApprovalLinkRecord } from '../domain/approval-link.js';

/**
 * One approval link as an item of the link store (DynamoDB): the record of approval-link.ts in
 * attribute values, and back. Shared by the function that writes links and the one that redeems them.
 */

export type LinkItem = Record<string, AttributeValue>;

const text = (value: string): AttributeValue => ({ S: value });

/** The item of a new link; `retainUntil` (epoch seconds) is when DynamoDB's TTL may drop it. */
export function linkItem(record: ApprovalLinkRecord, retainUntil: number): LinkItem {
  return {
    [A.hash]: text(record.linkHash),
    [A.taskToken]: text(record.taskToken),
    [A.executionArn]: text(record.executionArn),
    [A.step]: text(record.step),
    [A.keyArn]: text(record.keyArn),
    [A.createdAt]: text(record.createdAt),
    [A.expiresAt]: text(record.expiresAt),
    [A.retainUntil]: { N: String(retainUntil) },
  };
}

const stringAttribute = /* @__PURE__ */ (() => z.object({ S: z.string().check(z.minLength(1)) }))();
const optionalString = /* @__PURE__ */ (() => z.optional(stringAttribute))();
const StoredLink = /* @__PURE__ */ (() =>
  z.looseObject({
    [A.hash]: stringAttribute,
    [A.taskToken]: stringAttribute,
    [A.executionArn]: stringAttribute,
    [A.step]: z.object({ S: z.enum(APPROVAL_STEPS) }),
    [A.keyArn]: stringAttribute,
    [A.createdAt]: stringAttribute,
    [A.expiresAt]: stringAttribute,
    [A.usedAt]: optionalString,
    [A.usedFor]: z.optional(z.object({ S: z.enum(['approve', 'reject']) })),
  }))();

/** The stored item as a record, or null when it does not have a link's shape (then it decides nothing). */
export function linkRecordOf(item: LinkItem): ApprovalLinkRecord | null {
  const parsed = StoredLink.safeParse(item);
  if (!parsed.success) return null;
  const stored = parsed.data;
  const usedAt = stored[A.usedAt];
  const usedFor = stored[A.usedFor];
  return {
    linkHash: stored[A.hash].S,
    taskToken: stored[A.taskToken].S,
    executionArn: stored[A.executionArn].S,
    step: stored[A.step].S,
    keyArn: stored[A.keyArn].S,
    createdAt: stored[A.createdAt].S,
    expiresAt: stored[A.expiresAt].S,
    ...(usedAt ? { usedAt: usedAt.S } : {}),
    ...(usedFor ? { usedFor: usedFor.S } : {}),
  };
}
