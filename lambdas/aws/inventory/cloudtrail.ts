import { type CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import type { EncryptedResource, TrailFacts } from '../../domain/inventory.js';
import { encrypted, read } from './read.js';

/**
 * Trails visible in a Region (DescribeTrails, multi-Region trails of other home Regions included),
 * with the key that encrypts their log files and the log group they deliver to. CloudTrail records no
 * creation time.
 */
export async function readTrails(
  cloudTrail: CloudTrailClient,
): Promise<{ resources: EncryptedResource[]; trails: TrailFacts[] }> {
  const answer = await read('cloudtrail', 'DescribeTrails', () =>
    cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true })),
  );
  const list = answer.trailList ?? [];
  return {
    resources: list.flatMap((trail) =>
      encrypted(
        'AWS::CloudTrail::Trail',
        trail.KmsKeyId,
        trail.TrailARN ?? `(trail ${trail.Name ?? ''})`,
        null,
      ),
    ),
    trails: list.map((trail) => ({
      arn: trail.TrailARN ?? `(trail ${trail.Name ?? ''})`,
      kmsKeyId: trail.KmsKeyId ?? null,
      logGroupArn: trail.CloudWatchLogsLogGroupArn ?? null,
    })),
  };
}
