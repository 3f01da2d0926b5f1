/**
 * The secret of an approval link: what the e-mail's link carries instead of the Step Functions task
 * token, and what the stack keeps of it.
 *
 * The task token is readable by principals that can change nothing (GetExecutionHistory shows the
 * approval task's parameters, and a read-only role may read the history), so the token alone must
 * never decide. Each approval request gets a fresh random secret; the e-mail's link carries it, and
 * the stack stores only its SHA-256 digest beside the token. Whoever holds the e-mail can turn the
 * secret into the decision, once; whoever reads the history, the logs or the store holds neither
 * the secret nor a way back to it.
 *
 * Pure: node:crypto only (no AWS SDK).
 */
import { createHash, randomBytes } from 'node:crypto';
import { InvalidApprovalLinkError } from './errors.js';

/** Bytes of randomness in a secret: 256 bits, far beyond guessing at the API's throttled rate. */
export const LINK_SECRET_BYTES = 32;
/** The query parameter of the link that carries the secret (the only one the page reads). */
export const LINK_PARAMETER = 'link';
// base64url without padding: 32 bytes are exactly 43 characters.
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** A new secret: `LINK_SECRET_BYTES` random bytes, base64url (safe in a URL and in an e-mail as is). */
export function newLinkSecret(random: (size: number) => Buffer = randomBytes): string {
  const bytes = random(LINK_SECRET_BYTES);
  if (bytes.length !== LINK_SECRET_BYTES) {
    throw new Error(`the random source returned ${bytes.length} bytes, not ${LINK_SECRET_BYTES}`);
  }
  return bytes.toString('base64url');
}

/** What the store keeps of a secret, and looks it up by: its SHA-256 digest, hex. */
export function linkSecretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * A short, stable name of a link for logs and the request's result: the first 12 hex digits of the
 * digest of the digest. It names the stored record without being its key, and no part of the secret.
 */
export function linkFingerprint(secret: string): string {
  return createHash('sha256').update(linkSecretHash(secret)).digest('hex').slice(0, 12);
}

/**
 * The secret of a link or a form, as received. A mail client that wraps a long line may add white
 * space; nothing else is repaired. Anything that is not a secret's shape (a task token, an execution
 * ARN, markup) is refused before any lookup.
 */
export function parseLinkSecret(raw: string | null | undefined): string {
  const secret = (raw ?? '').replace(/\s/g, '');
  if (secret.length === 0) {
    throw new InvalidApprovalLinkError(
      'The link has no approval code. Open the link from the approval e-mail again, in full.',
    );
  }
  if (!SECRET.test(secret)) {
    throw new InvalidApprovalLinkError(
      'The approval code in the link is not one this page issued. Open the link from the approval e-mail again, in full.',
    );
  }
  return secret;
}

/** The link of the e-mail: the page's URL with the secret as its only parameter. */
export function approvalLinkUrl(pageUrl: string, secret: string): string {
  const url = new URL(pageUrl);
  url.search = '';
  url.searchParams.set(LINK_PARAMETER, secret);
  return url.toString();
}

/** What the store holds for one link (never the secret). */
export interface ApprovalLinkRecord {
  /** `linkSecretHash` of the secret: the record's key. */
  readonly linkHash: string;
  /** The task token the decision answers; it stays inside the stack. */
  readonly taskToken: string;
  readonly executionArn: string;
  readonly step: 'disable' | 'deletion';
  /** The key the request is about (as the assessment read it). */
  readonly keyArn: string;
  readonly createdAt: string;
  /** When the request stops waiting (the approval task's timeout): a later use decides nothing. */
  readonly expiresAt: string;
  /** Set once, by the decision that used the link. */
  readonly usedAt?: string | undefined;
  /** What that decision was. */
  readonly usedFor?: 'approve' | 'reject' | undefined;
}

export type LinkStatus = 'USABLE' | 'USED' | 'EXPIRED';

/** Whether a stored link may still decide at `now`. Used wins over expired: it says what happened. */
export function linkStatus(record: ApprovalLinkRecord, now: Date): LinkStatus {
  if (record.usedAt !== undefined) return 'USED';
  const expires = Date.parse(record.expiresAt);
  // An expiry that cannot be read is no expiry to trust: the link decides nothing.
  if (!Number.isFinite(expires) || now.getTime() >= expires) return 'EXPIRED';
  return 'USABLE';
}

/** When a request sent at `now` stops waiting: the approval task's timeout. */
export function linkExpiry(now: Date, timeoutSeconds: number): Date {
  return new Date(now.getTime() + timeoutSeconds * 1000);
}

/**
 * When the store may drop the record (its TTL, epoch seconds): a week after it expired, so that a
 * late click still reads "already decided" or "expired" instead of "not found".
 */
export function linkRetentionEpochSeconds(expiresAt: Date): number {
  return Math.ceil(expiresAt.getTime() / 1000) + 7 * 86_400;
}
