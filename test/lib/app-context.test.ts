import { readGuardContext } from '../../lib/app-context.js';
import { KeyDeletionGuardConfigError } from '../../lib/constructs/config.js';

function context(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

describe('readGuardContext', () => {
  it('takes the cdk.json object as it is', () => {
    // Prepare
    const base = {
      cloudTrailLogGroupName: 'org-trail',
      observationDays: 14,
      approvalEmails: ['ops@example.com'],
    };

    // Act
    const config = readGuardContext(context({ 'kms-deletion-guard:config': base }));

    // Assess
    expect(config).toEqual(base);
  });

  it('turns -c strings into numbers, switches, lists and a tag condition', () => {
    // Act
    const config = readGuardContext(
      context({
        observationDays: '14',
        minIdleDays: ' ',
        watchPendingWindow: 'false',
        fastRollback: 'yes',
        approvalEmails: 'a@example.com, b@example.com,',
        keyTagCondition: 'retire=yes=now',
        cloudTrailLogGroupName: 'org-trail',
      }),
    );

    // Assess
    expect(config).toEqual({
      observationDays: 14,
      minIdleDays: ' ',
      watchPendingWindow: false,
      fastRollback: 'yes',
      approvalEmails: ['a@example.com', 'b@example.com'],
      keyTagCondition: { key: 'retire', value: 'yes=now' },
      cloudTrailLogGroupName: 'org-trail',
    });
  });

  it('splits -c approvers where the next entry starts, keeping a comma inside an IAM name', () => {
    // Act
    const config = readGuardContext(
      context({
        approvers:
          'arn:aws:iam::111122223333:role/Key,Approvers, alice@example.com,arn:aws:iam::111122223333:user/bob,',
      }),
    );

    // Assess
    expect(config.approvers).toEqual([
      'arn:aws:iam::111122223333:role/Key,Approvers',
      'alice@example.com',
      'arn:aws:iam::111122223333:user/bob',
    ]);
  });

  it('lets a log group given with -c replace the trail cdk.json asks to create, and the reverse', () => {
    // Prepare
    const withTrail = { 'kms-deletion-guard:config': { createTrail: true } };
    const withGroup = { 'kms-deletion-guard:config': { cloudTrailLogGroupName: 'org-trail' } };

    // Act
    const group = readGuardContext(context({ ...withTrail, cloudTrailLogGroupName: 'other' }));
    const trail = readGuardContext(context({ ...withGroup, createTrail: 'true' }));

    // Assess
    expect(group).toEqual({ cloudTrailLogGroupName: 'other' });
    expect(trail).toEqual({ createTrail: true });
  });

  it('keeps -c text that is not a number as it is, so the error can quote it', () => {
    // Act
    const config = readGuardContext(context({ observationDays: 'thirty', checkIntervalHours: '1e2' }));

    // Assess
    expect(config).toEqual({ observationDays: 'thirty', checkIntervalHours: '1e2' });
  });

  it.each([
    ['no "="', 'novalue'],
    ['an empty value', 'retire='],
    ['a blank value', 'retire= '],
    ['an empty key', '=yes'],
    ['nothing', ''],
  ])('refuses -c keyTagCondition with %s', (_label, text) => {
    // Act
    const act = () => readGuardContext(context({ keyTagCondition: text }));

    // Assess
    expect(act).toThrow(KeyDeletionGuardConfigError);
    expect(act).toThrow(
      `keyTagCondition must be <tag key>=<tag value> with both parts non-empty, e.g. -c keyTagCondition=deletion-candidate=true; received ${JSON.stringify(text)}`,
    );
  });

  it('says why a tag condition without a value is refused', () => {
    // Act
    const act = () => readGuardContext(context({ keyTagCondition: 'novalue' }));

    // Assess
    expect(act).toThrow(
      '(no value: a condition on an empty tag value would admit only keys tagged with nothing)',
    );
  });

  it('refuses a configuration object that is not an object', () => {
    // Act
    const act = () => readGuardContext(context({ 'kms-deletion-guard:config': 'observationDays=30' }));

    // Assess
    expect(act).toThrow(KeyDeletionGuardConfigError);
    expect(act).toThrow(
      'The context key "kms-deletion-guard:config" must be an object of configuration fields; received "observationDays=30".',
    );
  });
});

describe('readGuardContext: top-level context keys', () => {
  function read(values: Record<string, unknown>) {
    return () => readGuardContext(context(values), Object.keys(values));
  }

  it.each([
    ['obsrvationDays', 'observationDays'],
    ['ObservationDays', 'observationDays'],
    ['observation-days', 'observationDays'],
    ['aprovalEmails', 'approvalEmails'],
    ['createtrail', 'createTrail'],
    ['keyTagConditon', 'keyTagCondition'],
  ])('refuses %s and names %s', (key, field) => {
    // Act
    const act = read({ [key]: '30' });

    // Assess
    expect(act).toThrow(KeyDeletionGuardConfigError);
    expect(act).toThrow(
      `Unknown context key "${key}" (from -c or the context of cdk.json). Did you mean "${field}"?`,
    );
  });

  it('refuses a misspelt kms-deletion-guard key and names the right one', () => {
    // Act
    const act = read({ 'kms-deletion-guard:confg': { observationDays: 30 } });

    // Assess
    expect(act).toThrow(KeyDeletionGuardConfigError);
    expect(act).toThrow(
      'Unknown context key "kms-deletion-guard:confg": the only kms-deletion-guard key is "kms-deletion-guard:config"',
    );
  });

  it("leaves CDK's keys, cached lookups and other libraries' keys alone", () => {
    // Prepare
    const values = {
      'kms-deletion-guard:config': { cloudTrailLogGroupName: 'org-trail' },
      '@aws-cdk/core:checkSecretUsage': true,
      '@aws-cdk/aws-iam:minimizePolicies': true,
      'aws:cdk:enable-path-metadata': true,
      'aws:cdk:bundling-stacks': ['**'],
      'availability-zones:account=111122223333:region=us-east-1': ['us-east-1a'],
      'cdk-nag/observationDays': 1,
      'cdk-observationDays': 1,
      'acknowledged-issue-numbers': [32775],
      vpcId: 'vpc-1',
      environment: 'prod',
      observationDays: '14',
    };

    // Act
    const config = readGuardContext(context(values), Object.keys(values));

    // Assess
    expect(config).toEqual({ cloudTrailLogGroupName: 'org-trail', observationDays: 14 });
  });

  it('checks nothing when the caller gives no key list', () => {
    // Act
    const config = readGuardContext(context({ obsrvationDays: '30' }));

    // Assess
    expect(config).toEqual({});
  });
});
