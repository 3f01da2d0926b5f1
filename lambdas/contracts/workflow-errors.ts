/**
 * Error names the state machine and the handlers agree on: the workflow's Retry and Catch match
 * them, handlers throw them (as the `name` of an Error) or send them with SendTaskFailure.
 */

/** Error names used with SendTaskFailure and thrown by handlers; the workflow catches by these names. */
export const WORKFLOW_ERRORS = {
  rejected: 'ApprovalRejected',
  keyChanged: 'KeyChangedExternallyError',
  eventSourceUnavailable: 'EventSourceUnavailableError',
  eventSourceBlind: 'EventSourceBlindError',
  invalidHandlerEvent: 'InvalidHandlerEventError',
  usedSinceAssessment: 'KeyUsedSinceAssessmentError',
} as const;

/**
 * Errors a handler throws that a later attempt can fix (KMS, CloudWatch Logs, the hold registry's
 * DynamoDB and Lambda itself): the workflow retries its Lambda tasks on them, and the watch's chain
 * schedules its check again.
 */
export const TRANSIENT_ERRORS = [
  'ThrottlingException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'ServiceUnavailableException',
  'LimitExceededException',
  'TimeoutError',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  // The sweep had not yet searched for a hold it will search at its next interval (a hold taken
  // while a sweep was running): a later attempt reads it. A sweep that stays behind outlasts every
  // retry, and the watch then fails with it.
  'SweepBehindError',
] as const;
