import { readGuardContext } from '../../lib/app-context.js';

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
});
