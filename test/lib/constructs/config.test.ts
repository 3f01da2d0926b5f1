import { App, Stack } from 'aws-cdk-lib';
import { readGuardContext } from '../../../lib/app-context.js';
import { KeyDeletionGuardConfigError, resolveGuardConfig, show } from '../../../lib/constructs/config.js';
import { KeyDeletionGuard } from '../../../lib/constructs/key-deletion-guard.js';

const SOURCE = { cloudTrailLogGroupName: 'org-trail' };

function refusal(raw: unknown): string {
  try {
    resolveGuardConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyDeletionGuardConfigError);
    return (error as Error).message;
  }
  throw new Error('resolveGuardConfig accepted the configuration');
}

describe('resolveGuardConfig: unknown fields', () => {
  it.each([
    ['obsrvationDays', 'observationDays'],
    ['observationdays', 'observationDays'],
    ['checkIntervalHour', 'checkIntervalHours'],
    ['approvalEmail', 'approvalEmails'],
    ['cloudtrailLogGroup', 'cloudTrailLogGroupName'],
    ['fastRolback', 'fastRollback'],
  ])('refuses %s and suggests %s', (field, suggestion) => {
    // Act
    const message = refusal({ ...SOURCE, [field]: 30 });

    // Assess
    expect(message).toContain(
      `Unknown configuration field "${field}". Did you mean "${suggestion}"? Known fields: `,
    );
  });

  it('suggests nothing for a name close to no field, and lists the fields', () => {
    // Act
    const message = refusal({ ...SOURCE, region: 'eu-west-1' });

    // Assess
    expect(message).toMatch(
      /^Unknown configuration field "region"\. Known fields: approvalEmails, .*watchPendingWindow\.$/,
    );
  });

  it('refuses an unknown construct prop the same way, before anything is built', () => {
    // Prepare
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bad');
    const props = { ...SOURCE, obsrvationDays: 45 } as Parameters<typeof resolveGuardConfig>[0];

    // Act
    let thrown: unknown;
    try {
      new KeyDeletionGuard(stack, 'Guard', props as never);
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(KeyDeletionGuardConfigError);
    expect((thrown as Error).message).toContain(
      'Unknown configuration field "obsrvationDays". Did you mean "observationDays"? Known fields: ',
    );
    expect(stack.node.tryFindChild('Guard')?.node.children).toEqual([]);
  });
});

describe('resolveGuardConfig: values of the wrong type', () => {
  it('names the text given with -c observationDays=thirty', () => {
    // Prepare
    const raw = readGuardContext(
      (key) => ({ ...{ 'kms-deletion-guard:config': SOURCE }, observationDays: 'thirty' })[key],
    );

    // Act
    const message = refusal(raw);

    // Assess
    expect(message).toBe('observationDays must be a whole number of days from 1 to 355; received "thirty".');
  });

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [null, 'null'],
    ['30', '"30"'],
    [{ days: 30 }, '{"days":30}'],
  ])('shows %j as %s', (value, shown) => {
    // Act
    const message = refusal({ ...SOURCE, observationDays: value });

    // Assess
    expect(message).toContain(`received ${shown}.`);
  });

  it('cuts a long value short and keeps the message on one line', () => {
    // Act
    const text = show(`line one\nline two ${'x'.repeat(200)}`);

    // Assess
    expect(text).toHaveLength(80);
    expect(text).not.toContain('\n');
  });
});

describe('resolveGuardConfig: observationDays range', () => {
  it('accepts 355 days, the longest the year of an execution leaves room for', () => {
    // Act
    const config = resolveGuardConfig({
      ...SOURCE,
      observationDays: 355,
      pendingWindowInDays: 7,
      approvalTimeoutDays: 1,
    });

    // Assess
    expect(config.observationDays).toBe(355);
  });

  it('refuses 356 days as out of range', () => {
    // Act
    const message = refusal({
      ...SOURCE,
      observationDays: 356,
      pendingWindowInDays: 7,
      approvalTimeoutDays: 1,
    });

    // Assess
    expect(message).toBe('observationDays must be a whole number of days from 1 to 355; received 356.');
  });
});

describe('resolveGuardConfig: keyTagCondition', () => {
  it('accepts a key and a value KMS allows, with letters of any script', () => {
    // Act
    const config = resolveGuardConfig({ ...SOURCE, keyTagCondition: { key: 'Löschen:ok', value: 'ja @ 1' } });

    // Assess
    expect(config.keyTagCondition).toEqual({ key: 'Löschen:ok', value: 'ja @ 1' });
  });

  it.each([
    [
      { key: 'retire', value: '' },
      'the value is missing or empty, so the condition would admit only keys tagged "retire" with no value',
    ],
    [{ key: 'retire', value: '  ' }, 'the value is missing or empty'],
    [{ key: 'retire' }, 'the value is missing or empty'],
    [{ key: '', value: 'yes' }, 'the key is missing or empty'],
    [{ key: 'AWS:x', value: 'yes' }, 'the key starts with aws:, which AWS keeps for its own tags'],
    [{ key: 'k'.repeat(129), value: 'yes' }, 'the key is longer than the 128 characters KMS allows'],
    [{ key: 'retire', value: 'v'.repeat(257) }, 'the value is longer than the 256 characters KMS allows'],
    [{ key: 'retire!', value: 'yes' }, 'the key has characters KMS does not allow in a tag'],
    [{ key: 'retire', value: 'yes;no' }, 'the value has characters KMS does not allow in a tag'],
    [{ key: 'retire', value: 'yes', op: 'eq' }, 'it has a field "op" besides key and value'],
    ['retire=yes', 'it is not an object'],
  ])('refuses %j: %s', (condition, problem) => {
    // Act
    const message = refusal({ ...SOURCE, keyTagCondition: condition });

    // Assess
    expect(message).toMatch(
      /^keyTagCondition must be \{ "key": "<tag key>", "value": "<tag value>" \} with a valid KMS tag key \(not aws:\) and a non-empty value/,
    );
    expect(message).toContain(`: ${problem}`);
  });

  it('accepts the longest key and value KMS allows', () => {
    // Act
    const config = resolveGuardConfig({
      ...SOURCE,
      keyTagCondition: { key: 'k'.repeat(128), value: 'v'.repeat(256) },
    });

    // Assess
    expect(config.keyTagCondition?.key).toHaveLength(128);
  });
});

describe('resolveGuardConfig: approvers', () => {
  it('accepts e-mail addresses and IAM principal ARNs, and defaults to none', () => {
    // Prepare
    const approvers = [
      'alice@example.com',
      'arn:aws:iam::111122223333:role/teams/KeyApprovers',
      'arn:aws:iam::111122223333:user/bob',
      'arn:aws:sts::111122223333:assumed-role/KeyApprovers/carol',
      'arn:aws-us-gov:iam::111122223333:root',
    ];

    // Act
    const named = resolveGuardConfig({ cloudTrailLogGroupName: 'trail', approvers });
    const none = resolveGuardConfig({ cloudTrailLogGroupName: 'trail' });

    // Assess
    expect(named.approvers).toEqual(approvers);
    expect(none.approvers).toEqual([]);
  });

  it.each([
    ['a name', ['bob']],
    ['a group, which no caller is', ['arn:aws:iam::111122223333:group/Approvers']],
    ['a role of no account', ['arn:aws:iam:::role/KeyApprovers']],
    ['not a list', 'alice@example.com'],
  ])('refuses %s, naming the field and what it takes', (_case, approvers) => {
    expect(() => resolveGuardConfig({ cloudTrailLogGroupName: 'trail', approvers })).toThrow(
      /^approvers must be a list of e-mail addresses or IAM principal ARNs .*; received /,
    );
  });
});
