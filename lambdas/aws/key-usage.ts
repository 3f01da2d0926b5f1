import { GetKeyLastUsageCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { UsageAssessment } from '../domain/types.js';
import { classifyUsage, type KeyLastUsageInput } from '../domain/usage.js';

/** GetKeyLastUsage's answer in the domain's terms; each member is absent when KMS left it out. */
export interface KeyUsageReading {
  readonly keyCreationDate?: Date | undefined;
  readonly trackingStartDate?: Date | undefined;
  readonly keyLastUsage?: KeyLastUsageInput | undefined;
}

export async function readKeyLastUsage(client: KMSClient, keyId: string): Promise<KeyUsageReading> {
  const answer = await client.send(new GetKeyLastUsageCommand({ KeyId: keyId }));
  const used = answer.KeyLastUsage;
  return {
    keyCreationDate: answer.KeyCreationDate,
    trackingStartDate: answer.TrackingStartDate,
    keyLastUsage: used && {
      operation: used.Operation,
      timestamp: used.Timestamp,
      cloudTrailEventId: used.CloudTrailEventId,
      kmsRequestId: used.KmsRequestId,
    },
  };
}

/**
 * GetKeyLastUsage, classified. `creationDate` (DescribeKey's) stands in when the answer lacks
 * KeyCreationDate; a missing TrackingStartDate becomes an invalid date, which classifyUsage refuses
 * to guess about.
 */
export async function classifyKeyUsage(
  client: KMSClient,
  keyId: string,
  creationDate: Date | undefined,
): Promise<UsageAssessment> {
  const reading = await readKeyLastUsage(client, keyId);
  return classifyUsage({
    keyCreationDate: reading.keyCreationDate ?? creationDate ?? new Date(Number.NaN),
    trackingStartDate: reading.trackingStartDate ?? new Date(Number.NaN),
    keyLastUsage: reading.keyLastUsage,
  });
}
