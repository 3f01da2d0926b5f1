import type { CloudTrailRecord } from './cloudtrail.js';

/**
 * A CloudTrail record as the log group holds it (one log event's message), and as the watch keeps it.
 * Shared by the searches and the subscription's deliveries: both read the same messages.
 */

/** The CloudTrail record a log event carries, or null when its message is not one. */
export function parseRecord(message: string | undefined): CloudTrailRecord | null {
  if (message === undefined) {
    return null;
  }
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return null;
  }
  const record = value as Record<string, unknown>;
  const required = ['eventID', 'eventTime', 'eventSource', 'eventName'] as const;
  if (!required.every((field) => typeof record[field] === 'string')) {
    return null;
  }
  return value as CloudTrailRecord;
}

/**
 * A record as a split search carries it: only the fields the domain reads (CloudTrailRecord), so a
 * long hold's many canary records fit in the workflow's state. A full record is 1-2 KB (TLS details,
 * additional event data, session attributes); what is kept is a few hundred bytes.
 */
export function carriedRecord(record: CloudTrailRecord): CloudTrailRecord {
  // Fields a record lacks stay undefined here and vanish when the resume is serialized.
  const identity = record.userIdentity;
  const issuer = identity?.sessionContext?.sessionIssuer?.arn;
  return {
    eventVersion: record.eventVersion,
    eventID: record.eventID,
    eventTime: record.eventTime,
    eventSource: record.eventSource,
    eventName: record.eventName,
    awsRegion: record.awsRegion,
    errorCode: record.errorCode,
    errorMessage: record.errorMessage,
    requestParameters: record.requestParameters,
    resources: record.resources,
    userIdentity: identity && {
      type: identity.type,
      arn: identity.arn,
      accountId: identity.accountId,
      principalId: identity.principalId,
      sessionContext: issuer === undefined ? undefined : { sessionIssuer: { arn: issuer } },
    },
    sourceIPAddress: record.sourceIPAddress,
    userAgent: record.userAgent,
    requestID: record.requestID,
    recipientAccountId: record.recipientAccountId,
    readOnly: record.readOnly,
  };
}
