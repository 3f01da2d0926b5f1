import { InvalidInputError } from '../../../lambdas/domain/errors.js';
import { parseExecutionInput } from '../../../lambdas/domain/input.js';
import type { GuardConfig } from '../../../lambdas/domain/types.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

const config: GuardConfig = {
  cloudTrailLogGroupName: 'trail-logs',
  observationDays: 30,
  checkIntervalHours: 6,
  ingestionLagMinutes: 30,
  minIdleDays: 90,
  approvalTimeoutDays: 7,
  pendingWindowInDays: 21,
  watchPendingWindow: true,
};

function invalid(raw: unknown): InvalidInputError {
  try {
    parseExecutionInput(raw, config);
  } catch (error) {
    if (error instanceof InvalidInputError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected InvalidInputError');
}

describe('parseExecutionInput', () => {
  it('fills every optional field from the stack configuration', () => {
    // Act
    const request = parseExecutionInput({ keyId: KEY_ID }, config);

    // Assess
    expect(request).toEqual({
      keyId: KEY_ID,
      observationDays: 30,
      pendingWindowInDays: 21,
      requestedBy: '',
      reason: '',
      allowExportedPublicKey: false,
    });
  });

  it('refuses an observation and pending window that, with both approvals, outlast a one-year execution', () => {
    // Act
    const error = invalid({ keyId: KEY_ID, observationDays: 330, pendingWindowInDays: 30 });

    // Assess: 330 + 30 + 2 x 7 + 1 = 375 days.
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(/need 375 days, more than the 365 days an execution may run/);
    expect(error.fields).toEqual(['observationDays', 'pendingWindowInDays']);
    expect(() => parseExecutionInput({ keyId: KEY_ID, observationDays: 320 }, config)).not.toThrow();
  });

  it('keeps every field that was given', () => {
    // Prepare
    const raw = {
      keyId: `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`,
      observationDays: 300,
      pendingWindowInDays: 7,
      requestedBy: 'jane@example.com',
      reason: 'Legacy app retired.\n\tTicket OPS-1',
      allowExportedPublicKey: true,
    };

    // Act
    const request = parseExecutionInput(raw, config);

    // Assess
    expect(request).toEqual(raw);
  });

  it.each([
    [null, 'null'],
    ['{"keyId":"x"}', 'the text'],
    [[KEY_ID], 'a list of 1 items'],
    [undefined, 'nothing'],
  ])('refuses input that is not an object (%j)', (raw, received) => {
    // Act
    const error = invalid(raw);

    // Assess
    expect(error.name).toBe('InvalidInputError');
    expect(error.fields).toEqual(['(input)']);
    expect(error.message).toContain('must be a JSON object such as {"keyId"');
    expect(error.message).toContain(received);
  });

  it('keeps acceptDataLoss, each ARN once', () => {
    // Prepare
    const bucket = 'arn:aws:s3:::yearly-archive';
    const snapshot = 'arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0';

    // Act
    const request = parseExecutionInput(
      { keyId: KEY_ID, acceptDataLoss: [bucket, snapshot, bucket] },
      config,
    );

    // Assess
    expect(request.acceptDataLoss).toEqual([bucket, snapshot]);
    expect(parseExecutionInput({ keyId: KEY_ID }, config).acceptDataLoss).toBeUndefined();
  });

  it.each([
    ['a text instead of a list', 'arn:aws:s3:::b', /received the text/],
    [
      'an entry that is not an ARN',
      ['arn:aws:s3:::b', 'yearly-archive'],
      /entry 1 is the text "yearly-archive"/,
    ],
    ['an entry with a line break', ['arn:aws:s3:::b\n'], /entry 0 is/],
    ['an entry with edge spaces', [' arn:aws:s3:::b'], /entry 0 is/],
    ['too many entries', Array.from({ length: 201 }, (_, i) => `arn:aws:s3:::b${i}`), /a list of 201 items/],
    [
      'too many characters in all',
      Array.from({ length: 20 }, (_, i) => `arn:aws:s3:::${String(i).padEnd(2000, 'x')}`),
      /a list of 20 items/,
    ],
  ])('refuses acceptDataLoss with %s, naming the field', (_what, value, received) => {
    // Act
    const error = invalid({ keyId: KEY_ID, acceptDataLoss: value });

    // Assess
    expect(error.fields).toEqual(['acceptDataLoss']);
    expect(error.message).toMatch(received);
    expect(error.message).toContain('resource ARNs');
  });

  it('refuses a missing keyId and says what to give', () => {
    // Act
    const error = invalid({ observationDays: 10 });

    // Assess
    expect(error.fields).toEqual(['keyId']);
    expect(error.message).toContain('"keyId"');
    expect(error.message).toContain('nothing (the field is missing)');
    expect(error.message).toContain('key ID or key ARN');
  });

  it('refuses an alias with the way to resolve it', () => {
    // Act
    const error = invalid({ keyId: 'alias/legacy' });

    // Assess
    expect(error.fields).toEqual(['keyId']);
    expect(error.message).toContain('aws kms describe-key --key-id alias/legacy');
  });

  it.each([
    ['observationDays', 0],
    ['observationDays', 366],
    ['observationDays', 1.5],
    ['observationDays', '30'],
    ['pendingWindowInDays', 6],
    ['pendingWindowInDays', 31],
    ['pendingWindowInDays', null],
    ['allowExportedPublicKey', 'true'],
  ])('refuses %s = %j', (field, value) => {
    // Act
    const error = invalid({ keyId: KEY_ID, [field]: value });

    // Assess
    expect(error.fields).toEqual([field]);
    expect(error.message).toContain(`field "${field}" is invalid: received`);
    expect(error.message).toContain(JSON.stringify(value) === 'null' ? 'null' : String(value));
  });

  it('accepts the range bounds, up to the one-year limit of an execution', () => {
    // Act: 320 + 30 + 2 x 7 + 1 = 365 days.
    const low = parseExecutionInput({ keyId: KEY_ID, observationDays: 1, pendingWindowInDays: 7 }, config);
    const high = parseExecutionInput(
      { keyId: KEY_ID, observationDays: 320, pendingWindowInDays: 30 },
      config,
    );

    // Assess
    expect([low.observationDays, low.pendingWindowInDays]).toEqual([1, 7]);
    expect([high.observationDays, high.pendingWindowInDays]).toEqual([320, 30]);
  });

  it('refuses an unknown field by name and suggests the known one', () => {
    // Act
    const error = invalid({ keyId: KEY_ID, observation_days: 10 });

    // Assess
    expect(error.fields).toEqual(['observation_days']);
    expect(error.message).toContain('unknown field "observation_days"');
    expect(error.message).toContain('Did you mean "observationDays"?');
  });

  it('names every offending field at once', () => {
    // Act
    const error = invalid({ keyId: KEY_ID, observationDays: 0, pendingWindowInDays: 99, extra: 1 });

    // Assess
    expect([...error.fields].sort()).toEqual(['extra', 'observationDays', 'pendingWindowInDays']);
  });

  it('refuses a line break in requestedBy but allows newline and tab in reason', () => {
    // Act
    const byError = invalid({ keyId: KEY_ID, requestedBy: 'jane\nBcc: x' });
    const request = parseExecutionInput({ keyId: KEY_ID, reason: 'a\nb\tc' }, config);

    // Assess
    expect(byError.fields).toEqual(['requestedBy']);
    expect(byError.message).not.toContain('\n');
    expect(request.reason).toBe('a\nb\tc');
  });

  it.each(['\u0000', '\r', '\u001b[31m', '\u0085'])(
    'refuses the control character %j in reason',
    (control) => {
      // Act
      const error = invalid({ keyId: KEY_ID, reason: `text${control}` });

      // Assess
      expect(error.fields).toEqual(['reason']);
      expect(error.message).not.toContain(control);
    },
  );

  it('enforces the text lengths (256 and 1,024) and shows long values cut short', () => {
    // Prepare
    const by = 'b'.repeat(257);
    const reason = 'r'.repeat(1025);

    // Act
    const error = invalid({ keyId: KEY_ID, requestedBy: by, reason });
    const ok = parseExecutionInput(
      { keyId: KEY_ID, requestedBy: by.slice(1), reason: reason.slice(1) },
      config,
    );

    // Assess
    expect([...error.fields].sort()).toEqual(['reason', 'requestedBy']);
    expect(error.message).toContain('(1025 characters)');
    expect(error.message.length).toBeLessThan(900);
    expect(ok.requestedBy).toHaveLength(256);
  });
});
