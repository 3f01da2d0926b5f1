import {
  AliasNotSupportedError,
  EmptyKeyIdError,
  ForeignAccountKeyError,
  KeyIdControlCharacterError,
  KeyIdTooLongError,
  MalformedKeyArnError,
  MalformedKeyIdError,
} from '../../../lambdas/domain/errors.js';
import { locateKey, parseKeyId } from '../../../lambdas/domain/key-id.js';
import { hasControlCharacter, quoteUntrusted } from '../../../lambdas/domain/untrusted.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const MRK_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-2:111122223333:key/${KEY_ID}`;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('parseKeyId', () => {
  it('accepts a bare key ID', () => {
    // Act
    const ref = parseKeyId(KEY_ID);

    // Assess
    expect(ref).toEqual({ kind: 'KEY_ID', keyId: KEY_ID, multiRegion: false });
  });

  it('accepts a multi-Region key ID', () => {
    // Act
    const ref = parseKeyId(MRK_ID);

    // Assess
    expect(ref).toEqual({ kind: 'KEY_ID', keyId: MRK_ID, multiRegion: true });
  });

  it('splits a key ARN into partition, Region, account and key ID', () => {
    // Act
    const ref = parseKeyId(KEY_ARN);

    // Assess
    expect(ref).toEqual({
      kind: 'KEY_ARN',
      keyId: KEY_ID,
      arn: KEY_ARN,
      partition: 'aws',
      region: 'us-east-2',
      account: '111122223333',
      multiRegion: false,
    });
  });

  it('accepts key ARNs of other partitions', () => {
    // Prepare
    const govArn = `arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/${MRK_ID}`;

    // Act
    const ref = parseKeyId(govArn);

    // Assess
    expect(ref).toMatchObject({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      keyId: MRK_ID,
      multiRegion: true,
    });
  });

  it('refuses an alias name and says how to resolve it', () => {
    // Act
    const error = thrown(() => parseKeyId('alias/legacy'));

    // Assess
    expect(error).toBeInstanceOf(AliasNotSupportedError);
    expect(error.name).toBe('AliasNotSupportedError');
    expect(error.message).toContain('`aws kms describe-key --key-id alias/legacy`');
    expect(error.message).toContain("the CLI's start command, which resolves aliases");
    expect(error.message).toContain(
      '`npx kms-deletion-guard start alias/legacy`, in a project where the package is installed: npm install kms-deletion-guard',
    );
  });

  it('refuses an alias ARN', () => {
    // Prepare
    const aliasArn = 'arn:aws:kms:us-east-2:111122223333:alias/legacy';

    // Act
    const error = thrown(() => parseKeyId(aliasArn));

    // Assess
    expect(error).toBeInstanceOf(AliasNotSupportedError);
    expect(error.message).toContain(`--key-id ${aliasArn}`);
  });

  it.each([
    ['an 11-digit account', `arn:aws:kms:us-east-2:11112222333:key/${KEY_ID}`],
    ['another service', `arn:aws:s3:us-east-2:111122223333:key/${KEY_ID}`],
    ['no key/ prefix', `arn:aws:kms:us-east-2:111122223333:${KEY_ID}`],
    ['a malformed key ID', 'arn:aws:kms:us-east-2:111122223333:key/not-a-key'],
    ['no Region', `arn:aws:kms::111122223333:key/${KEY_ID}`],
  ])('refuses a key ARN with %s', (_label, arn) => {
    // Act
    const error = thrown(() => parseKeyId(arn));

    // Assess
    expect(error).toBeInstanceOf(MalformedKeyArnError);
    expect(error.name).toBe('MalformedKeyArnError');
    expect(error.message).toContain('arn:aws:kms:<region>:<12-digit account>:key/<key ID>');
  });

  it.each([
    ['too short', '1234abcd-12ab-34cd-56ef-1234567890a'],
    ['not hex', '1234abcd-12ab-34cd-56ef-1234567890zz'],
    ['an mrk- ID of the wrong length', 'mrk-1234'],
    ['surrounding spaces', ` ${KEY_ID} `],
  ])('refuses a key ID that is %s', (_label, value) => {
    // Act
    const error = thrown(() => parseKeyId(value));

    // Assess
    expect(error).toBeInstanceOf(MalformedKeyIdError);
    expect(error.name).toBe('MalformedKeyIdError');
  });

  it.each(['', '   '])('refuses an empty identifier (%j)', (value) => {
    // Act
    const error = thrown(() => parseKeyId(value));

    // Assess
    expect(error).toBeInstanceOf(EmptyKeyIdError);
    expect(error.name).toBe('EmptyKeyIdError');
  });

  it('refuses more than 2,048 characters but judges exactly 2,048 by form', () => {
    // Prepare
    const atLimit = 'a'.repeat(2048);
    const overLimit = 'a'.repeat(2049);

    // Act
    const atLimitError = thrown(() => parseKeyId(atLimit));
    const overLimitError = thrown(() => parseKeyId(overLimit));

    // Assess
    expect(atLimitError).toBeInstanceOf(MalformedKeyIdError);
    expect(overLimitError).toBeInstanceOf(KeyIdTooLongError);
    expect(overLimitError.message).toContain('2049 characters');
    expect(overLimitError.message.length).toBeLessThan(400);
  });

  it('refuses control characters and shows them escaped, never raw', () => {
    // Prepare
    const value = `${KEY_ID}\n`;

    // Act
    const error = thrown(() => parseKeyId(value));

    // Assess
    expect(error).toBeInstanceOf(KeyIdControlCharacterError);
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('\\n');
  });
});

describe('locateKey', () => {
  it('places a bare key ID in the home account and Region', () => {
    // Act
    const location = locateKey(KEY_ID, '111122223333', 'eu-west-1');

    // Assess
    expect(location).toEqual({
      keyId: KEY_ID,
      region: 'eu-west-1',
      account: '111122223333',
      keyArn: null,
      otherRegion: false,
    });
  });

  it("takes the Region from a key ARN of the same account's other Region", () => {
    // Act
    const location = locateKey(KEY_ARN, '111122223333', 'eu-west-1');

    // Assess
    expect(location).toEqual({
      keyId: KEY_ID,
      region: 'us-east-2',
      account: '111122223333',
      keyArn: KEY_ARN,
      otherRegion: true,
    });
  });

  it('refuses a key ARN of another account because GetKeyLastUsage is not cross-account', () => {
    // Act
    const error = thrown(() => locateKey(KEY_ARN, '444455556666', 'us-east-2'));

    // Assess
    expect(error).toBeInstanceOf(ForeignAccountKeyError);
    expect(error.name).toBe('ForeignAccountKeyError');
    expect(error.message).toContain('GetKeyLastUsage is not cross-account');
    expect(error.message).toContain('111122223333');
  });
});

describe('quoteUntrusted', () => {
  it('escapes C0, DEL, C1 and line separators and cuts long values', () => {
    // Prepare
    const value = `a\u0007b\u007fc\u0085d\u2028e${'x'.repeat(100)}`;

    // Act
    const quoted = quoteUntrusted(value, 20);

    // Assess
    expect(quoted).toBe('"a\\u0007b\\u007fc\\u0085d\\u2028exxxxxxxxxxx…"');
  });
});

describe('hasControlCharacter', () => {
  it('allows only the characters it is told to allow', () => {
    // Act
    const results = [
      hasControlCharacter('line\nbreak'),
      hasControlCharacter('line\nbreak\ttab', '\n\t'),
      hasControlCharacter('bell\u0007', '\n\t'),
      hasControlCharacter('plain text é'),
    ];

    // Assess
    expect(results).toEqual([true, false, true, false]);
  });
});
