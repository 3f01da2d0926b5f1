import { AwsError } from './errors.js';

/**
 * The emulated account's one trail, as the CloudTrail API reports it (DescribeTrails,
 * GetEventSelectors, GetTrailStatus), so `doctor` and the assessment read the same setup the
 * emulated trail applies when it drops records (account.ts `delivers`).
 */

/** The scenario's trail setup (its `cloudTrail` block: lib/simulator/contracts/scenario.schema.json). */
export interface TrailSetup {
  /** `WriteOnly` trails drop read-only events (every cryptographic call). */
  readonly readWriteType?: 'All' | 'WriteOnly' | undefined;
  /** True: KMS read-only events (Encrypt, Decrypt, ...) are not delivered; writes still are. */
  readonly excludeKmsEvents?: boolean | undefined;
  /** From when `readWriteType`/`excludeKmsEvents` hold (default: always). */
  readonly trailChangeAt?: Date | undefined;
  /** Nothing is delivered from then on. */
  readonly stopLoggingAt?: Date | undefined;
}

export interface TrailView {
  readonly account: string;
  readonly region: string;
  readonly logGroupName: string;
  readonly deliveryLagMs: number;
  /** When the trail started logging (the log group's creation). */
  readonly startedAt: Date;
  readonly setup: TrailSetup;
  /** The key encrypting the watched trail's log files (its `KmsKeyId`), if any. */
  readonly kmsKeyId?: string | undefined;
  /** The Region the request was sent to (default: the trail's). */
  readonly callerRegion?: string | undefined;
  /** The account's other trails, single-Region, each with log files encrypted under a key. */
  readonly otherTrails?: readonly OtherTrail[] | undefined;
}

export interface OtherTrail {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly kmsKeyId: string;
}

export const EMULATED_TRAIL_NAME = 'management-events';

function trailArn(view: TrailView): string {
  return `arn:aws:cloudtrail:${view.region}:${view.account}:trail/${EMULATED_TRAIL_NAME}`;
}

/** The selectors in force at `now`: before trailChangeAt the trail logged everything. */
export function selectorsAt(
  setup: TrailSetup,
  now: Date,
): { readWriteType: 'All' | 'WriteOnly'; excludeKms: boolean } {
  if (setup.trailChangeAt && now < setup.trailChangeAt) {
    return { readWriteType: 'All', excludeKms: false };
  }
  return { readWriteType: setup.readWriteType ?? 'All', excludeKms: setup.excludeKmsEvents === true };
}

export function isLoggingAt(setup: TrailSetup, now: Date): boolean {
  return !setup.stopLoggingAt || now < setup.stopLoggingAt;
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function requireTrail(view: TrailView, name: unknown): void {
  if (name !== EMULATED_TRAIL_NAME && name !== trailArn(view)) {
    throw new AwsError(
      'TrailNotFoundException',
      `Unknown trail: ${String(name)} for the user: ${view.account}`,
    );
  }
}

/** One CloudTrail API operation against the emulated trail at `now`. */
export function handleCloudTrail(
  operation: string,
  request: Record<string, unknown>,
  view: TrailView,
  now: Date,
): Record<string, unknown> {
  switch (operation) {
    case 'DescribeTrails': {
      const names = Array.isArray(request.trailNameList) ? request.trailNameList : [];
      const selectors = selectorsAt(view.setup, now);
      const trail = {
        Name: EMULATED_TRAIL_NAME,
        S3BucketName: `aws-cloudtrail-logs-${view.account}`,
        IncludeGlobalServiceEvents: true,
        IsMultiRegionTrail: true,
        HomeRegion: view.region,
        TrailARN: trailArn(view),
        LogFileValidationEnabled: true,
        CloudWatchLogsLogGroupArn: `arn:aws:logs:${view.region}:${view.account}:log-group:${view.logGroupName}:*`,
        CloudWatchLogsRoleArn: `arn:aws:iam::${view.account}:role/CloudTrail_CloudWatchLogs_Role`,
        HasCustomEventSelectors: selectors.readWriteType !== 'All' || selectors.excludeKms,
        HasInsightSelectors: false,
        IsOrganizationTrail: false,
        // "KmsKeyId: Specifies the KMS key ID that encrypts the logs delivered by CloudTrail. The
        // value is a fully specified ARN to a KMS key" (CloudTrail API reference, Trail).
        ...(view.kmsKeyId !== undefined ? { KmsKeyId: view.kmsKeyId } : {}),
      };
      const callerRegion = view.callerRegion ?? view.region;
      const others = (view.otherTrails ?? [])
        .filter((other) => other.region === callerRegion)
        .map((other) => ({
          Name: other.name,
          S3BucketName: `aws-cloudtrail-logs-${view.account}-${other.name}`,
          IncludeGlobalServiceEvents: false,
          IsMultiRegionTrail: false,
          HomeRegion: other.region,
          TrailARN: other.arn,
          LogFileValidationEnabled: true,
          HasCustomEventSelectors: false,
          HasInsightSelectors: false,
          IsOrganizationTrail: false,
          KmsKeyId: other.kmsKeyId,
        }));
      const listed = (candidate: { Name: string; TrailARN: string }) =>
        names.length === 0 || names.some((n) => n === candidate.Name || n === candidate.TrailARN);
      return { trailList: [trail, ...others].filter(listed) };
    }
    case 'GetEventSelectors': {
      requireTrail(view, request.TrailName);
      const selectors = selectorsAt(view.setup, now);
      return {
        TrailARN: trailArn(view),
        EventSelectors: [
          {
            ReadWriteType: selectors.readWriteType,
            IncludeManagementEvents: true,
            DataResources: [],
            ExcludeManagementEventSources: selectors.excludeKms ? ['kms.amazonaws.com'] : [],
          },
        ],
      };
    }
    case 'GetTrailStatus': {
      requireTrail(view, request.Name);
      const logging = isLoggingAt(view.setup, now);
      const stoppedAt = view.setup.stopLoggingAt;
      const lastDelivery = new Date(
        Math.max(
          view.startedAt.getTime(),
          (logging || !stoppedAt ? now : stoppedAt).getTime() - view.deliveryLagMs,
        ),
      );
      return {
        IsLogging: logging,
        StartLoggingTime: epochSeconds(view.startedAt),
        ...(!logging && stoppedAt ? { StopLoggingTime: epochSeconds(stoppedAt) } : {}),
        LatestDeliveryTime: epochSeconds(lastDelivery),
        LatestCloudWatchLogsDeliveryTime: epochSeconds(lastDelivery),
        TimeLoggingStarted: view.startedAt.toISOString(),
      };
    }
    default:
      throw new AwsError('UnknownOperationException', `The emulated CloudTrail does not serve ${operation}.`);
  }
}
