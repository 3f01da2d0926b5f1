/**
 * kms-deletion-guard as a construct library. `KeyDeletionGuard` is the whole product in one construct;
 * the others are its parts, one per concern, for a stack that wants to compose them differently.
 */
export { ApprovalEndpoint, type ApprovalEndpointProps } from './constructs/approval-endpoint.js';
export { ApprovalLinks, type ApprovalLinksProps } from './constructs/approval-links.js';
export { CloudTrailSource, type CloudTrailSourceProps } from './constructs/cloudtrail-source.js';
export { FastPath, type FastPathProps } from './constructs/fast-path.js';
export { GuardFunction, type GuardFunctionProps } from './constructs/guard-function.js';
export { KeyDeletionGuard, type KeyDeletionGuardProps } from './constructs/key-deletion-guard.js';
export { Notifications, type NotificationsProps } from './constructs/notifications.js';
export {
  OperatorView,
  type OperatorViewFastPath,
  type OperatorViewFunctions,
  type OperatorViewProps,
} from './constructs/operator-view.js';
export { WatchSchedules } from './constructs/watch-schedules.js';
export { Workflow, type WorkflowFunctions, type WorkflowProps } from './constructs/workflow.js';
export { KmsDeletionGuardStack, type KmsDeletionGuardStackProps } from './kms-deletion-guard-stack.js';
