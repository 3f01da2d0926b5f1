/**
 * The tags the workflow and the fast path put on a key they hold, and the values of its status tag.
 * They mirror the stack's hold registry for people and for IAM's second fence (conditions of the
 * stack name them); decisions never rest on them alone, since anyone allowed to tag keys can write them.
 */

/** Tags the workflow puts on a key it holds. */
export const TAGS = {
  execution: 'kms-deletion-guard:execution',
  status: 'kms-deletion-guard:status',
  disabledAt: 'kms-deletion-guard:disabled-at',
  wasEnabled: 'kms-deletion-guard:was-enabled',
  deletionScheduledAt: 'kms-deletion-guard:deletion-scheduled-at',
  evidence: 'kms-deletion-guard:evidence',
  /** Who approved disabling, and when (the decision also stays in the execution history). */
  disableApprovedBy: 'kms-deletion-guard:disable-approved-by',
  /** Who approved scheduling the deletion, and when. */
  deletionApprovedBy: 'kms-deletion-guard:deletion-approved-by',
  /** Who rejected the deletion of a key the workflow had disabled (set when it restores the key). */
  rejectedBy: 'kms-deletion-guard:rejected-by',
  /** What becomes unreadable with the key (acceptDataLoss): how many resources and their ARNs, cut to fit. */
  dataLossAccepted: 'kms-deletion-guard:data-loss-accepted',
} as const;

/** Tags the fast path adds to the hold's tags. */
export const FAST_PATH_TAGS = {
  /** The caller of the record that showed the key is needed. */
  caller: 'kms-deletion-guard:evidence-caller',
  /** `<eventTime> <eventName> <errorCode> <sourceIP> <eventID> <userAgent>` of that record. */
  call: 'kms-deletion-guard:evidence-call',
} as const;

/** Values of the status tag. */
export type HoldStatus =
  | 'disabling'
  | 'disabled'
  | 'pending-deletion'
  | 'rolled-back'
  | 'deletion-cancelled'
  | 'restored'
  | 'aborted';

/** Statuses during which this execution holds the key; every other status means the hold has ended. */
export const ACTIVE_HOLD_STATUSES: readonly HoldStatus[] = ['disabling', 'disabled', 'pending-deletion'];
