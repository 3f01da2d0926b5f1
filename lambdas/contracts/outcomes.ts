/**
 * How an execution ends, and the named reasons behind REFUSED and ABORTED. The workflow's Fail
 * states, the handlers, the simulator and the CLI all speak these names.
 */

/** Every outcome an execution can end with (the execution's result, or the error of its Fail state). */
export const OUTCOMES = [
  'REFUSED',
  'REJECTED',
  'APPROVAL_EXPIRED',
  'ROLLED_BACK',
  'ABORTED',
  'DELETION_CANCELLED',
  'DELETION_SCHEDULED',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Named reasons for REFUSED. */
export const REFUSAL_CAUSES = [
  'INVALID_INPUT',
  'KEY_NOT_FOUND',
  'FOREIGN_ACCOUNT',
  'AWS_MANAGED_KEY',
  'KEY_STATE_NOT_ALLOWED',
  'PENDING_DELETION',
  'RECENTLY_USED',
  /** Known uses of the key are further apart than the observation: a caller could come and go unseen. */
  'OBSERVATION_TOO_SHORT',
  'MULTI_REGION_PRIMARY_WITH_REPLICAS',
  'HELD_BY_ANOTHER_EXECUTION',
  'PUBLIC_KEY_EXPORTED',
  'TAG_CONDITION_NOT_MET',
  'EVENT_SOURCE_UNAVAILABLE',
  /** DisableKey's re-read of GetKeyLastUsage shows a use the approved assessment did not see. */
  'USED_SINCE_ASSESSMENT',
  /** The inventory found resources encrypted under the key that acceptDataLoss does not name exactly. */
  'PROTECTS_DATA',
  /** A read of the inventory failed: what the key protects is unknown, never "nothing". */
  'INVENTORY_INCOMPLETE',
  /** The key encrypts the CloudTrail log group the watch reads, or the trail that feeds it. */
  'ENCRYPTS_WATCH_SOURCE',
] as const;
export type RefusalCause = (typeof REFUSAL_CAUSES)[number];

/** Named reasons for ABORTED. */
export const ABORT_CAUSES = [
  'KEY_CHANGED_EXTERNALLY',
  'EVENT_SOURCE_UNAVAILABLE',
  'EVENT_SOURCE_BLIND',
  'USED_AFTER_DISABLE',
  'WORKFLOW_ERROR',
] as const;
export type AbortCause = (typeof ABORT_CAUSES)[number];
