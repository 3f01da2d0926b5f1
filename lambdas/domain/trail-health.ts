import { KMS_EVENT_SOURCE } from './cloudtrail.js';
import { DAY_MS } from './time.js';

/**
 * Why a trail setup would make the watch blind (what the CLI's `doctor` reports). Trails that exclude KMS
 * events, log write events only, cover another Region, stopped logging or lost their CloudWatch
 * Logs delivery make a used key look quiet: a failed Decrypt is a read management event of
 * kms.amazonaws.com, and only a trail that logs those into the watched log group shows it.
 *
 * Pure: the caller reads DescribeTrails, GetEventSelectors and GetTrailStatus (shapes as the SDK
 * answers them) and passes them in with the time. The canary remains the guarantee; this names the
 * reason in advance, one line each, with the fix.
 */

/** DescribeTrails' trailList entry, as far as it matters here. */
export interface TrailDescription {
  readonly Name?: string | undefined;
  readonly TrailARN?: string | undefined;
  readonly HomeRegion?: string | undefined;
  readonly IsMultiRegionTrail?: boolean | undefined;
  readonly IsOrganizationTrail?: boolean | undefined;
  readonly CloudWatchLogsLogGroupArn?: string | undefined;
}

export interface AdvancedFieldSelectorDescription {
  readonly Field?: string | undefined;
  readonly Equals?: readonly string[] | undefined;
  readonly NotEquals?: readonly string[] | undefined;
  readonly StartsWith?: readonly string[] | undefined;
  readonly NotStartsWith?: readonly string[] | undefined;
  readonly EndsWith?: readonly string[] | undefined;
  readonly NotEndsWith?: readonly string[] | undefined;
}

/** GetEventSelectors' answer. */
export interface SelectorsDescription {
  readonly EventSelectors?:
    | readonly {
        readonly ReadWriteType?: string | undefined;
        readonly IncludeManagementEvents?: boolean | undefined;
        readonly ExcludeManagementEventSources?: readonly string[] | undefined;
      }[]
    | undefined;
  readonly AdvancedEventSelectors?:
    | readonly {
        readonly Name?: string | undefined;
        readonly FieldSelectors?: readonly AdvancedFieldSelectorDescription[] | undefined;
      }[]
    | undefined;
}

/** GetTrailStatus' answer. */
export interface StatusDescription {
  readonly IsLogging?: boolean | undefined;
  readonly StopLoggingTime?: Date | undefined;
  readonly LatestCloudWatchLogsDeliveryTime?: Date | undefined;
  readonly LatestCloudWatchLogsDeliveryError?: string | undefined;
}

/** One trail that delivers to the log group, with what could be read of it. */
export interface FeedingTrail {
  readonly trail: TrailDescription;
  /** The selectors, or the error that kept them from being read. */
  readonly selectors: SelectorsDescription | { readonly error: string };
  readonly status: StatusDescription | { readonly error: string };
}

export interface TrailHealthInput {
  readonly logGroupName: string;
  /** Region of the log group (where the workflow runs). */
  readonly region: string;
  /** The key's Region when known (assessment); `doctor` without a key leaves it out. */
  readonly keyRegion?: string | undefined;
  /** Every trail DescribeTrails listed (shadow trails included). */
  readonly trails: readonly TrailDescription[];
  /** The trails that feed the group (see feedsLogGroup), each with its selectors and status. */
  readonly feeding: readonly FeedingTrail[];
  readonly now: Date;
}

export type TrailFindingCode =
  | 'NO_TRAIL'
  | 'NO_MANAGEMENT_EVENTS'
  | 'WRITE_ONLY'
  | 'KMS_EVENTS_EXCLUDED'
  | 'REGION_NOT_COVERED'
  | 'SINGLE_REGION'
  | 'LOGGING_STOPPED'
  | 'NO_DELIVERY'
  | 'STALE_DELIVERY'
  | 'DELIVERY_ERROR'
  | 'UNREADABLE';

/** BLIND: this trail cannot show a failed call on the key. WARNING: it may not, or cannot be told. */
export type TrailFindingSeverity = 'BLIND' | 'WARNING';

export interface TrailFinding {
  readonly code: TrailFindingCode;
  readonly severity: TrailFindingSeverity;
  /** The trail's name, or null for a finding about the group as a whole. */
  readonly trail: string | null;
  readonly problem: string;
  readonly fix: string;
}

export interface TrailHealth {
  readonly logGroupName: string;
  /** True when no trail that feeds the group would show a failed KMS read call on the key. */
  readonly blind: boolean;
  /** Names of the trails that feed the group. */
  readonly trails: readonly string[];
  /** Names of the feeding trails with no BLIND finding. */
  readonly seeing: readonly string[];
  readonly findings: readonly TrailFinding[];
}

/** Delivery older than this, while the trail logs, is suspect: CloudTrail delivers within minutes. */
const STALE_DELIVERY_MS = DAY_MS;

/** `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` -> parts. */
export function parseLogGroupArn(arn: string): { region: string; account: string; name: string } | null {
  const match = /^arn:[^:]+:logs:([^:]*):([^:]*):log-group:(.+?)(?::\*)?$/.exec(arn);
  if (!match) {
    return null;
  }
  const [, region = '', account = '', name = ''] = match;
  return { region, account, name };
}

/** Does this trail deliver to the log group (its CloudWatchLogsLogGroupArn names it, in that Region)? */
export function feedsLogGroup(trail: TrailDescription, logGroupName: string, region: string): boolean {
  const target = trail.CloudWatchLogsLogGroupArn ? parseLogGroupArn(trail.CloudWatchLogsLogGroupArn) : null;
  return target !== null && target.name === logGroupName && target.region === region;
}

function trailName(trail: TrailDescription): string {
  return trail.Name ?? trail.TrailARN ?? 'unnamed trail';
}

/** A management event as the selectors see it. */
interface SampleEvent {
  readonly eventSource: string;
  readonly readOnly: boolean;
  readonly eventName: string;
}

const KMS_READ: SampleEvent = { eventSource: KMS_EVENT_SOURCE, readOnly: true, eventName: 'Decrypt' };
const KMS_WRITE: SampleEvent = { eventSource: KMS_EVENT_SOURCE, readOnly: false, eventName: 'DisableKey' };
const OTHER_READ: SampleEvent = {
  eventSource: 'ec2.amazonaws.com',
  readOnly: true,
  eventName: 'DescribeInstances',
};
const OTHER_WRITE: SampleEvent = {
  eventSource: 'ec2.amazonaws.com',
  readOnly: false,
  eventName: 'RunInstances',
};

function fieldValue(field: string, event: SampleEvent): string | undefined {
  switch (field) {
    case 'eventCategory':
      return 'Management';
    case 'readOnly':
      return String(event.readOnly);
    case 'eventSource':
      return event.eventSource;
    case 'eventName':
      return event.eventName;
    default:
      return undefined;
  }
}

function fieldMatches(selector: AdvancedFieldSelectorDescription, event: SampleEvent): boolean {
  const value = fieldValue(selector.Field ?? '', event);
  const has = (list: readonly string[] | undefined, test: (v: string, item: string) => boolean): boolean =>
    value !== undefined && (list ?? []).some((item) => test(value, item));
  if (selector.Equals && !has(selector.Equals, (v, i) => v === i)) return false;
  if (selector.StartsWith && !has(selector.StartsWith, (v, i) => v.startsWith(i))) return false;
  if (selector.EndsWith && !has(selector.EndsWith, (v, i) => v.endsWith(i))) return false;
  if (has(selector.NotEquals, (v, i) => v === i)) return false;
  if (has(selector.NotStartsWith, (v, i) => v.startsWith(i))) return false;
  if (has(selector.NotEndsWith, (v, i) => v.endsWith(i))) return false;
  return true;
}

/** Would the trail log this management event? Any selector that matches logs it. */
function logs(selectors: SelectorsDescription, event: SampleEvent): boolean {
  const advanced = selectors.AdvancedEventSelectors ?? [];
  if (advanced.length > 0) {
    return advanced.some((selector) =>
      (selector.FieldSelectors ?? []).every((field) => fieldMatches(field, event)),
    );
  }
  return (selectors.EventSelectors ?? []).some((selector) => {
    if (selector.IncludeManagementEvents === false) return false;
    const rw = selector.ReadWriteType ?? 'All';
    const rwOk =
      rw === 'All' || (rw === 'ReadOnly' && event.readOnly) || (rw === 'WriteOnly' && !event.readOnly);
    return rwOk && !(selector.ExcludeManagementEventSources ?? []).includes(event.eventSource);
  });
}

function selectorFindings(name: string, selectors: SelectorsDescription): TrailFinding[] {
  if (logs(selectors, KMS_READ)) {
    return [];
  }
  const advanced = (selectors.AdvancedEventSelectors ?? []).length > 0;
  const putSelectors = advanced
    ? `edit the advanced event selectors of ${name} (aws cloudtrail put-event-selectors --trail-name ${name} --advanced-event-selectors ...)`
    : `aws cloudtrail put-event-selectors --trail-name ${name} --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]'`;
  const findings: TrailFinding[] = [];
  const writesKms = logs(selectors, KMS_WRITE);
  const readsOthers = logs(selectors, OTHER_READ);
  if (!writesKms && !readsOthers && !logs(selectors, OTHER_WRITE)) {
    return [
      {
        code: 'NO_MANAGEMENT_EVENTS',
        severity: 'BLIND',
        trail: name,
        problem: 'logs no management events, so no KMS call reaches the log group.',
        fix: `include management events (read and write): ${putSelectors}.`,
      },
    ];
  }
  if (!readsOthers) {
    findings.push({
      code: 'WRITE_ONLY',
      severity: 'BLIND',
      trail: name,
      problem: 'logs write events only; a failed Decrypt or Encrypt is a read event and is never logged.',
      fix: `log read and write management events (ReadWriteType All${advanced ? ', no readOnly field selector' : ''}): ${putSelectors}.`,
    });
  }
  if (!writesKms || readsOthers) {
    findings.push({
      code: 'KMS_EVENTS_EXCLUDED',
      severity: 'BLIND',
      trail: name,
      problem: `excludes KMS events (${KMS_EVENT_SOURCE}), so failed calls on the key are never logged.`,
      fix: `stop excluding ${KMS_EVENT_SOURCE}${advanced ? ' (remove the eventSource condition that filters it out)' : ' (remove it from ExcludeManagementEventSources)'}: ${putSelectors}.`,
    });
  }
  return findings;
}

function regionFindings(name: string, trail: TrailDescription, input: TrailHealthInput): TrailFinding[] {
  if (trail.IsMultiRegionTrail === true) {
    return [];
  }
  const home = trail.HomeRegion ?? input.region;
  const fix = `make it multi-Region: aws cloudtrail update-trail --name ${name} --is-multi-region-trail.`;
  if (input.keyRegion !== undefined) {
    return input.keyRegion === home
      ? []
      : [
          {
            code: 'REGION_NOT_COVERED',
            severity: 'BLIND',
            trail: name,
            problem: `is a single-Region trail of ${home}; calls on a key in ${input.keyRegion} are never logged by it.`,
            fix,
          },
        ];
  }
  return [
    {
      code: 'SINGLE_REGION',
      severity: 'WARNING',
      trail: name,
      problem: `is a single-Region trail of ${home}; keys of other Regions would be watched blind.`,
      fix,
    },
  ];
}

function statusFindings(name: string, status: StatusDescription, now: Date): TrailFinding[] {
  const findings: TrailFinding[] = [];
  const deliveryFix =
    `check the trail's CloudWatchLogsRoleArn (it needs logs:CreateLogStream and logs:PutLogEvents on the group) ` +
    `and its CloudWatchLogsLogGroupArn: aws cloudtrail get-trail-status --name ${name}.`;
  if (status.IsLogging === false) {
    const since = status.StopLoggingTime ? ` since ${status.StopLoggingTime.toISOString()}` : '';
    findings.push({
      code: 'LOGGING_STOPPED',
      severity: 'BLIND',
      trail: name,
      problem: `is not logging${since}; nothing reaches the log group.`,
      fix: `aws cloudtrail start-logging --name ${name}.`,
    });
  }
  const delivered = status.LatestCloudWatchLogsDeliveryTime;
  if (!delivered) {
    findings.push({
      code: 'NO_DELIVERY',
      severity: 'BLIND',
      trail: name,
      problem: 'has never delivered to CloudWatch Logs.',
      fix: deliveryFix,
    });
  } else if (status.IsLogging !== false && now.getTime() - delivered.getTime() > STALE_DELIVERY_MS) {
    findings.push({
      code: 'STALE_DELIVERY',
      severity: 'WARNING',
      trail: name,
      problem: `last delivered to CloudWatch Logs at ${delivered.toISOString()}, more than a day ago, while logging.`,
      fix: deliveryFix,
    });
  }
  if (status.LatestCloudWatchLogsDeliveryError) {
    findings.push({
      code: 'DELIVERY_ERROR',
      severity: 'WARNING',
      trail: name,
      problem: `reports a CloudWatch Logs delivery error: ${status.LatestCloudWatchLogsDeliveryError}.`,
      fix: deliveryFix,
    });
  }
  return findings;
}

function isError(value: object): value is { readonly error: string } {
  return typeof (value as { error?: unknown }).error === 'string';
}

/** Every reason the group would not show a failed KMS read call on the key, one finding each. */
export function analyzeTrailHealth(input: TrailHealthInput): TrailHealth {
  const findings: TrailFinding[] = [];
  const trails: string[] = [];
  const seeing: string[] = [];
  for (const { trail, selectors, status } of input.feeding) {
    const name = trailName(trail);
    trails.push(name);
    const own: TrailFinding[] = [];
    if (isError(selectors)) {
      own.push({
        code: 'UNREADABLE',
        severity: 'WARNING',
        trail: name,
        problem: `event selectors could not be read (${selectors.error}).`,
        fix: 'allow cloudtrail:GetEventSelectors on the trail to check them.',
      });
    } else {
      own.push(...selectorFindings(name, selectors));
    }
    own.push(...regionFindings(name, trail, input));
    if (isError(status)) {
      own.push({
        code: 'UNREADABLE',
        severity: 'WARNING',
        trail: name,
        problem: `status could not be read (${status.error}).`,
        fix: 'allow cloudtrail:GetTrailStatus on the trail to check it.',
      });
    } else {
      own.push(...statusFindings(name, status, input.now));
    }
    if (!own.some((f) => f.severity === 'BLIND')) {
      seeing.push(name);
    }
    findings.push(...own);
  }
  if (input.feeding.length === 0) {
    const listed = input.trails.map(trailName);
    findings.push({
      code: 'NO_TRAIL',
      severity: 'BLIND',
      trail: null,
      problem:
        `no trail delivers to log group ${input.logGroupName} in ${input.region}` +
        (listed.length > 0 ? ` (trails seen: ${listed.join(', ')})` : ' (DescribeTrails lists none)') +
        '.',
      fix:
        `point a multi-Region trail's CloudWatch Logs delivery at ${input.logGroupName} (aws cloudtrail update-trail ` +
        '--name <trail> --cloud-watch-logs-log-group-arn <group ARN> --cloud-watch-logs-role-arn <role ARN>), or set ' +
        'cloudTrailLogGroupName to the group your trail delivers to, or deploy with createTrail: true.',
    });
  }
  return { logGroupName: input.logGroupName, blind: seeing.length === 0, trails, seeing, findings };
}

/** One line per finding: `BLIND  trail: problem Fix: fix`. */
export function formatFinding(finding: TrailFinding): string {
  const subject = finding.trail === null ? '' : `trail ${finding.trail} `;
  return `${finding.severity.padEnd(7)} ${subject}${finding.problem} Fix: ${finding.fix}`;
}

/**
 * The findings as approval e-mail warnings. A blind setup says plainly that the canary will stop
 * the run; a setup that could not be read at all is a warning, never a refusal.
 */
export function trailHealthWarnings(health: TrailHealth): string[] {
  const lines = health.findings.map(
    (finding) =>
      `CloudTrail setup: ${finding.trail === null ? '' : `trail ${finding.trail} `}${finding.problem} Fix: ${finding.fix}`,
  );
  if (health.blind) {
    lines.push(
      `CloudTrail setup: as configured, log group ${health.logGroupName} would not show a failed call on this key. ` +
        'The workflow proves visibility with its own canary after disabling and will stop (EVENT_SOURCE_BLIND, key ' +
        'restored) when the canary does not show up; fix the trail before approving.',
    );
  }
  return lines;
}
