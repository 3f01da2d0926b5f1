import {
  CONFIG_DEFAULTS,
  executionDaysNeeded,
  guardConfigPayload,
  guardConfigSchema,
  stackConfigSchema,
  WHOLE_NUMBER_FIELDS,
} from '../../../lambdas/contracts/config.js';
import { resolveGuardConfig } from '../../../lib/constructs/config.js';

const PRINCIPALS = ['arn:aws:iam::111122223333:role/Guard-CheckRole'];
// What a deployment sets for the stack alone (e-mails, approvers, trail, fast path, sweep and its
// source) never travels to AssessKey: the approvers travel with each approval request instead.
const {
  approvalEmails,
  approvers,
  createTrail,
  fastRollback,
  sweep,
  sweepSubscription,
  sweepIntervalMinutes,
  ...sentDefaults
} = CONFIG_DEFAULTS;

describe('guardConfigPayload', () => {
  it('builds, from the defaults, a config AssessKey accepts', () => {
    // Prepare
    const resolved = resolveGuardConfig({ cloudTrailLogGroupName: 'org-trail' });

    // Act
    const payload = guardConfigPayload(resolved, 'org-trail', PRINCIPALS);

    // Assess
    expect(Object.keys(payload)).toEqual([
      'cloudTrailLogGroupName',
      ...WHOLE_NUMBER_FIELDS.filter((field) => field !== 'sweepIntervalMinutes'),
      'watchPendingWindow',
      'workflowPrincipalArns',
    ]);
    expect(payload).toMatchObject({ ...sentDefaults, workflowPrincipalArns: PRINCIPALS });
    expect(guardConfigSchema.safeParse(payload).success).toBe(true);
  });

  it('carries the tag condition only when the stack sets one', () => {
    // Prepare
    const resolved = resolveGuardConfig({
      cloudTrailLogGroupName: 'org-trail',
      keyTagCondition: { key: 'retire', value: 'yes' },
    });

    // Act
    const payload = guardConfigPayload(resolved, 'org-trail', []);

    // Assess
    expect(payload.keyTagCondition).toEqual({ key: 'retire', value: 'yes' });
    expect(guardConfigSchema.safeParse(payload).success).toBe(true);
  });

  it.each([
    [
      'the lowest values the stack accepts',
      {
        observationDays: 1,
        checkIntervalHours: 1,
        ingestionLagMinutes: 5,
        minIdleDays: 0,
        approvalTimeoutDays: 1,
      },
    ],
    [
      // The year an execution may run keeps the observation from reaching 365 here.
      'the highest values the stack accepts',
      { observationDays: 300, checkIntervalHours: 24, ingestionLagMinutes: 720, minIdleDays: 3650 },
    ],
  ])('gives AssessKey a config it accepts for %s', (_label, raw) => {
    // Prepare
    const resolved = resolveGuardConfig({ cloudTrailLogGroupName: 'org-trail', ...raw });

    // Act
    const parsed = guardConfigSchema.safeParse(guardConfigPayload(resolved, 'org-trail', PRINCIPALS));

    // Assess
    expect(parsed.success).toBe(true);
  });
});

describe('stackConfigSchema', () => {
  it('accepts every default', () => {
    // Act
    const parsed = stackConfigSchema.safeParse({ ...CONFIG_DEFAULTS, cloudTrailLogGroupName: 'g' });

    // Assess
    expect(parsed.success).toBe(true);
  });

  it('refuses a field it does not know', () => {
    // Act
    const parsed = stackConfigSchema.safeParse({ observationDay: 30 });

    // Assess
    expect(parsed.success).toBe(false);
  });
});

describe('executionDaysNeeded', () => {
  it('adds both approvals, the observation, the pending window and a day', () => {
    // Act
    const days = executionDaysNeeded(30, 30, 7);

    // Assess
    expect(days).toBe(75);
  });
});
