import {
  type CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  analyzeTrailHealth,
  type FeedingTrail,
  feedsLogGroup,
  type TrailHealth,
} from '../domain/trail-health.js';

/**
 * Reads the trail setup that feeds the log group (DescribeTrails, then GetEventSelectors and
 * GetTrailStatus of each trail that delivers to it) and analyses it. A trail whose selectors or
 * status cannot be read is reported as unreadable, never assumed healthy; DescribeTrails failing
 * throws, and the caller decides what a missing answer means.
 */
export async function readTrailHealth(
  client: CloudTrailClient,
  logGroupName: string,
  region: string,
  now: Date,
  keyRegion?: string,
): Promise<TrailHealth> {
  const described = await client.send(new DescribeTrailsCommand({ includeShadowTrails: true }));
  const trails = described.trailList ?? [];
  const feeding: FeedingTrail[] = [];
  for (const trail of trails.filter((t) => feedsLogGroup(t, logGroupName, region))) {
    const id = trail.TrailARN ?? trail.Name ?? '';
    const [selectors, status] = await Promise.all([
      client.send(new GetEventSelectorsCommand({ TrailName: id })).catch(describeFailure),
      client.send(new GetTrailStatusCommand({ Name: id })).catch(describeFailure),
    ]);
    feeding.push({ trail, selectors, status });
  }
  return analyzeTrailHealth({ logGroupName, region, keyRegion, trails, feeding, now });
}

function describeFailure(error: unknown): { error: string } {
  return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
