import {
  analyzeTrailHealth,
  type FeedingTrail,
  feedsLogGroup,
  formatFinding,
  parseLogGroupArn,
  type SelectorsDescription,
  type StatusDescription,
  type TrailDescription,
  type TrailHealthInput,
  trailHealthWarnings,
} from '../../../lambdas/domain/trail-health.js';

const NOW = new Date('2026-01-10T12:00:00.000Z');
const GROUP = 'aws-cloudtrail-logs';
const GROUP_ARN = `arn:aws:logs:us-east-1:111122223333:log-group:${GROUP}:*`;

const TRAIL: TrailDescription = {
  Name: 'main',
  TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/main',
  HomeRegion: 'us-east-1',
  IsMultiRegionTrail: true,
  CloudWatchLogsLogGroupArn: GROUP_ARN,
};
const ALL: SelectorsDescription = {
  EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }],
};
const LOGGING: StatusDescription = {
  IsLogging: true,
  LatestCloudWatchLogsDeliveryTime: new Date('2026-01-10T11:55:00.000Z'),
};

function input(feeding: Partial<FeedingTrail>, extra: Partial<TrailHealthInput> = {}): TrailHealthInput {
  const trail = feeding.trail ?? TRAIL;
  return {
    logGroupName: GROUP,
    region: 'us-east-1',
    trails: [trail],
    feeding: [{ trail, selectors: feeding.selectors ?? ALL, status: feeding.status ?? LOGGING }],
    now: NOW,
    ...extra,
  };
}

function codes(i: TrailHealthInput): string[] {
  return analyzeTrailHealth(i).findings.map((f) => `${f.severity}:${f.code}`);
}

describe('feedsLogGroup', () => {
  it('matches the group by name and Region in the trail CloudWatchLogsLogGroupArn', () => {
    expect(parseLogGroupArn(GROUP_ARN)).toEqual({
      region: 'us-east-1',
      account: '111122223333',
      name: GROUP,
    });
    expect(feedsLogGroup(TRAIL, GROUP, 'us-east-1')).toBe(true);
    expect(feedsLogGroup(TRAIL, GROUP, 'eu-west-1')).toBe(false);
    expect(feedsLogGroup(TRAIL, `${GROUP}-2`, 'us-east-1')).toBe(false);
    expect(feedsLogGroup({ ...TRAIL, CloudWatchLogsLogGroupArn: undefined }, GROUP, 'us-east-1')).toBe(false);
  });
});

describe('analyzeTrailHealth', () => {
  it('finds nothing wrong with a multi-Region trail that logs all management events and delivers', () => {
    // Act
    const health = analyzeTrailHealth(input({}));

    // Assess
    expect(health).toMatchObject({ blind: false, trails: ['main'], seeing: ['main'], findings: [] });
    expect(trailHealthWarnings(health)).toEqual([]);
  });

  it('names no trail delivering to the group, with the trails it saw', () => {
    // Act
    const health = analyzeTrailHealth({ ...input({}), feeding: [] });

    // Assess
    expect(health.blind).toBe(true);
    expect(health.findings).toEqual([
      expect.objectContaining({
        code: 'NO_TRAIL',
        severity: 'BLIND',
        problem: expect.stringContaining('main'),
      }),
    ]);
  });

  it.each([
    [
      'classic selector excluding KMS events',
      { EventSelectors: [{ ReadWriteType: 'All', ExcludeManagementEventSources: ['kms.amazonaws.com'] }] },
      ['BLIND:KMS_EVENTS_EXCLUDED'],
    ],
    [
      'classic write-only selector',
      { EventSelectors: [{ ReadWriteType: 'WriteOnly' }] },
      ['BLIND:WRITE_ONLY'],
    ],
    [
      'write-only and KMS excluded',
      {
        EventSelectors: [
          { ReadWriteType: 'WriteOnly', ExcludeManagementEventSources: ['kms.amazonaws.com'] },
        ],
      },
      ['BLIND:WRITE_ONLY', 'BLIND:KMS_EVENTS_EXCLUDED'],
    ],
    [
      'no management events',
      { EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: false }] },
      ['BLIND:NO_MANAGEMENT_EVENTS'],
    ],
    [
      'advanced selector filtering KMS out',
      {
        AdvancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] },
            ],
          },
        ],
      },
      ['BLIND:KMS_EVENTS_EXCLUDED'],
    ],
    [
      'advanced selector for write events only',
      {
        AdvancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: 'eventCategory', Equals: ['Management'] },
              { Field: 'readOnly', Equals: ['false'] },
            ],
          },
        ],
      },
      ['BLIND:WRITE_ONLY'],
    ],
    [
      'advanced selector for all management events',
      { AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }] },
      [],
    ],
  ] as const)('%s', (_label, selectors, expected) => {
    expect(codes(input({ selectors: selectors as SelectorsDescription }))).toEqual(expected);
  });

  it('is blind for a single-Region trail of another Region than the key, a warning without a key', () => {
    // Prepare
    const single = { ...TRAIL, IsMultiRegionTrail: false };

    // Act / Assess
    expect(codes(input({ trail: single }, { keyRegion: 'eu-west-1' }))).toEqual(['BLIND:REGION_NOT_COVERED']);
    expect(codes(input({ trail: single }, { keyRegion: 'us-east-1' }))).toEqual([]);
    expect(codes(input({ trail: single }))).toEqual(['WARNING:SINGLE_REGION']);
  });

  it('names stopped logging, missing or stale delivery and delivery errors', () => {
    expect(
      codes(input({ status: { IsLogging: false, StopLoggingTime: new Date('2026-01-09T00:00:00Z') } })),
    ).toEqual(['BLIND:LOGGING_STOPPED', 'BLIND:NO_DELIVERY']);
    expect(
      codes(
        input({
          status: { IsLogging: true, LatestCloudWatchLogsDeliveryTime: new Date('2026-01-05T00:00:00Z') },
        }),
      ),
    ).toEqual(['WARNING:STALE_DELIVERY']);
    expect(
      codes(input({ status: { ...LOGGING, LatestCloudWatchLogsDeliveryError: 'AccessDenied' } })),
    ).toEqual(['WARNING:DELIVERY_ERROR']);
  });

  it('reports selectors or status it could not read as warnings, never as healthy or blind', () => {
    // Act
    const health = analyzeTrailHealth(
      input({
        selectors: { error: 'AccessDeniedException: no' },
        status: { error: 'AccessDeniedException: no' },
      }),
    );

    // Assess
    expect(health.blind).toBe(false);
    expect(health.findings.map((f) => f.code)).toEqual(['UNREADABLE', 'UNREADABLE']);
  });

  it('sees through one healthy trail when another feeding trail is blind', () => {
    // Prepare
    const other: TrailDescription = { ...TRAIL, Name: 'legacy', TrailARN: `${TRAIL.TrailARN}-legacy` };
    const both: TrailHealthInput = {
      ...input({}),
      feeding: [
        { trail: TRAIL, selectors: ALL, status: LOGGING },
        { trail: other, selectors: { EventSelectors: [{ ReadWriteType: 'WriteOnly' }] }, status: LOGGING },
      ],
    };

    // Act
    const health = analyzeTrailHealth(both);

    // Assess
    expect(health).toMatchObject({ blind: false, seeing: ['main'], trails: ['main', 'legacy'] });
  });
});

describe('formatFinding / trailHealthWarnings', () => {
  it('writes one line per reason with its fix, and says the canary will stop a blind run', () => {
    // Prepare
    const health = analyzeTrailHealth(
      input({ selectors: { EventSelectors: [{ ExcludeManagementEventSources: ['kms.amazonaws.com'] }] } }),
    );

    // Act
    const line = formatFinding(health.findings[0] as never);
    const warnings = trailHealthWarnings(health);

    // Assess
    expect(line).toMatch(
      /^BLIND {3}trail main excludes KMS events \(kms\.amazonaws\.com\).* Fix: stop excluding/,
    );
    expect(line).not.toContain('\n');
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('EVENT_SOURCE_BLIND');
  });
});
