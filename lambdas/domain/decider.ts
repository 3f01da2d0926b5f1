/**
 * Who decided an approval, in the words every record uses: the task output, the key's tags, the logs
 * and the next e-mail say the same thing, and say plainly when a name was only typed.
 *
 * And who may decide: the stack's `approvers` (e-mail addresses or IAM principal ARNs) restrict the
 * decisions whose decider is known. A name typed on the approval page is never known.
 */
import { stripControl } from './assessment-message.js';
import type { ApprovalDecision, DeciderIdentity } from './types.js';

/** How a self-declared name is labelled wherever it is shown. */
export const SELF_DECLARED_LABEL = 'self-declared name, not verified';

const MAX_USER_AGENT_SHOWN = 120;
/** The part of a tag value (256 characters) a name may take, so the time and the source still fit. */
const MAX_NAME_IN_TAG = 120;

function clip(text: string, max: number): string {
  const clean = stripControl(text).trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** The identity a decision names, reading a decision recorded before identities as self-declared. */
export function identityOf(decision: Pick<ApprovalDecision, 'identity'>): DeciderIdentity {
  return decision.identity ?? { kind: 'self-declared' };
}

/**
 * One line for e-mails and logs: who, how they are known, from where, and when. For example
 * `alice (self-declared name, not verified; from 198.51.100.7, Mozilla/5.0 …) at 2026-02-01T10:00:00Z`.
 */
export function describeDecision(decision: ApprovalDecision): string {
  const identity = identityOf(decision);
  const proof: string[] = [];
  if (identity.kind === 'iam') {
    proof.push(`IAM identity verified by AWS (user ID ${identity.userId})`);
  } else {
    proof.push(SELF_DECLARED_LABEL);
  }
  const source = [
    decision.sourceIp,
    decision.userAgent ? clip(decision.userAgent, MAX_USER_AGENT_SHOWN) : null,
  ]
    .filter((part): part is string => typeof part === 'string' && part.length > 0)
    .join(', ');
  if (source) proof.push(`from ${source}`);
  if (decision.via === 'cli') proof.push('with the kms-deletion-guard CLI');
  if (decision.via === 'approval-page') proof.push('on the approval page');
  return `${clip(decision.by, 200)} (${proof.join('; ')}) at ${decision.at}`;
}

/**
 * The decision as a tag value (what `kms-deletion-guard:*-approved-by` holds): how the decider is
 * known first, so a shortened value still says it. The caller sanitizes it for KMS's tag rules.
 */
export function decisionTagText(decision: ApprovalDecision): string {
  const identity = identityOf(decision);
  const label = identity.kind === 'iam' ? 'IAM' : 'self-declared';
  const from = decision.sourceIp ? ` from ${decision.sourceIp}` : '';
  return `${label} ${clip(decision.by, MAX_NAME_IN_TAG)} at ${decision.at}${from}`;
}

// --- Approvers --------------------------------------------------------------------------------------

/** An identity a decision can be checked against: an IAM caller, or a verified e-mail address. */
export type KnownDecider =
  | { readonly kind: 'iam'; readonly arn: string }
  | { readonly kind: 'email'; readonly email: string };

const PARTITION = 'aws(?:-[a-z]+)*';
const IAM_USER = new RegExp(`^arn:(${PARTITION}):iam::(\\d{12}):user/(?:[^/]+/)*([^/]+)$`);
const IAM_ROLE = new RegExp(`^arn:(${PARTITION}):iam::(\\d{12}):role/(?:[^/]+/)*([^/]+)$`);
const IAM_ROOT = new RegExp(`^arn:(${PARTITION}):iam::(\\d{12}):root$`);
const ASSUMED_ROLE = new RegExp(`^arn:(${PARTITION}):sts::(\\d{12}):assumed-role/([^/]+)/(.+)$`);
/** Roles IAM Identity Center creates: their session name is the signed-in user's name, set by Identity Center. */
const IDENTITY_CENTER_ROLE = /^AWSReservedSSO_/;

function sameEmail(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * True when `entry` of the approvers list names `decider`:
 * - an IAM user ARN (or the account root) names exactly that caller;
 * - an IAM role ARN names every session of the role (STS names a session by the role's name, not
 *   its path); an assumed-role ARN names exactly that session;
 * - an e-mail address names a page sign-in verified for that address, or an IAM Identity Center
 *   session of that user (Identity Center sets the session name; a caller of AssumeRole cannot
 *   assume its reserved roles).
 */
export function approverMatches(entry: string, decider: KnownDecider): boolean {
  const wanted = entry.trim();
  if (decider.kind === 'email') {
    return !wanted.startsWith('arn:') && sameEmail(wanted, decider.email);
  }
  const caller = decider.arn;
  if (!wanted.startsWith('arn:')) {
    const session = ASSUMED_ROLE.exec(caller);
    return (
      session !== null && IDENTITY_CENTER_ROLE.test(session[3] ?? '') && sameEmail(session[4] ?? '', wanted)
    );
  }
  if (IAM_USER.test(wanted) || IAM_ROOT.test(wanted)) return wanted === caller;
  const role = IAM_ROLE.exec(wanted);
  if (role) {
    const session = ASSUMED_ROLE.exec(caller);
    return session !== null && session[1] === role[1] && session[2] === role[2] && session[3] === role[3];
  }
  return ASSUMED_ROLE.test(wanted) && wanted === caller;
}

/** True when no approvers are configured (anyone who can reach the decision may decide) or one names `decider`. */
export function mayDecide(approvers: readonly string[], decider: KnownDecider): boolean {
  return approvers.length === 0 || approvers.some((entry) => approverMatches(entry, decider));
}
