import {
  approvalLinkUrl,
  LINK_SECRET_BYTES,
  linkExpiry,
  linkFingerprint,
  linkRetentionEpochSeconds,
  linkSecretHash,
  linkStatus,
  newLinkSecret,
  parseLinkSecret,
} from '../../../lambdas/domain/approval-link.js';
import { InvalidApprovalLinkError } from '../../../lambdas/domain/errors.js';

const NOW = new Date('2026-02-01T10:00:00.000Z');
const RECORD = {
  linkHash: 'a'.repeat(64),
  taskToken: 'AQCEAAAA+token/=',
  executionArn: 'arn:aws:states:us-east-1:111122223333:execution:Guard:run',
  step: 'disable' as const,
  keyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  createdAt: NOW.toISOString(),
  expiresAt: '2026-02-08T10:00:00.000Z',
};

describe('newLinkSecret', () => {
  it('is 256 random bits as 43 base64url characters, safe in a URL as is', () => {
    // Act
    const secret = newLinkSecret();

    // Assess
    expect(LINK_SECRET_BYTES * 8).toBeGreaterThanOrEqual(128);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(LINK_SECRET_BYTES);
    expect(encodeURIComponent(secret)).toBe(secret);
  });

  it('is fresh every time', () => {
    // Act
    const secrets = new Set(Array.from({ length: 1000 }, () => newLinkSecret()));

    // Assess
    expect(secrets.size).toBe(1000);
  });

  it('takes its bytes from the random source and refuses a source that gives fewer', () => {
    // Prepare
    const fixed = (size: number) => Buffer.alloc(size, 0xff);

    // Act / Assess
    expect(newLinkSecret(fixed)).toBe(Buffer.alloc(32, 0xff).toString('base64url'));
    expect(() => newLinkSecret(() => Buffer.alloc(8))).toThrow(/8 bytes, not 32/);
  });
});

describe('linkSecretHash and linkFingerprint', () => {
  it('store a SHA-256 digest and log a name, neither of which holds the secret', () => {
    // Prepare
    const secret = newLinkSecret();

    // Act
    const hash = linkSecretHash(secret);
    const fingerprint = linkFingerprint(secret);

    // Assess
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(linkSecretHash(secret));
    expect(hash).not.toBe(linkSecretHash(newLinkSecret()));
    expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);
    // The fingerprint names the record without being a prefix of its key.
    expect(hash.startsWith(fingerprint)).toBe(false);
    expect(secret).not.toContain(fingerprint);
  });

  it('hashes the known SHA-256 test vector', () => {
    expect(linkSecretHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('parseLinkSecret', () => {
  it('accepts a secret and removes white space a mail client wrapped into it', () => {
    // Prepare
    const secret = newLinkSecret();

    // Act / Assess
    expect(parseLinkSecret(secret)).toBe(secret);
    expect(parseLinkSecret(` ${secret.slice(0, 10)}\r\n${secret.slice(10)} `)).toBe(secret);
  });

  it.each([
    ['', /no approval code/],
    [null, /no approval code/],
    [undefined, /no approval code/],
    [
      'AQCEAAAAKgAAAAMAAAAAAAAAAf+3mLk/yW9pQm+Zb2tlbi1mb3ItdGVzdHM+Kzs8L3NjcmlwdD4=',
      /not one this page issued/,
    ],
    ['a'.repeat(64), /not one this page issued/],
    ['a'.repeat(42), /not one this page issued/],
    ['<script>alert(1)</script>aaaaaaaaaaaaaaaaaaaaaa', /not one this page issued/],
  ])('refuses %j before any lookup', (raw, message) => {
    expect(() => parseLinkSecret(raw)).toThrow(InvalidApprovalLinkError);
    expect(() => parseLinkSecret(raw)).toThrow(message);
  });
});

describe('approvalLinkUrl', () => {
  it('puts the secret as the only parameter of the page URL', () => {
    // Prepare
    const secret = newLinkSecret();

    // Act
    const url = approvalLinkUrl('https://abc.execute-api.us-east-1.amazonaws.com/approval/?x=1', secret);

    // Assess
    expect(url).toBe(`https://abc.execute-api.us-east-1.amazonaws.com/approval/?link=${secret}`);
  });
});

describe('linkStatus', () => {
  it.each([
    ['usable before its expiry', RECORD, NOW, 'USABLE'],
    ['expired at its expiry', RECORD, new Date(RECORD.expiresAt), 'EXPIRED'],
    ['expired after it', RECORD, new Date('2026-03-01T00:00:00Z'), 'EXPIRED'],
    [
      'used once used, even when also expired',
      { ...RECORD, usedAt: NOW.toISOString() },
      new Date('2027-01-01'),
      'USED',
    ],
    ['expired when its expiry cannot be read', { ...RECORD, expiresAt: 'soon' }, NOW, 'EXPIRED'],
  ] as const)('is %s', (_case, record, now, status) => {
    expect(linkStatus(record, now)).toBe(status);
  });
});

describe('expiry and retention', () => {
  it('expires with the approval task and is kept a week longer for a late click', () => {
    // Act
    const expires = linkExpiry(NOW, 7 * 86_400);

    // Assess
    expect(expires.toISOString()).toBe('2026-02-08T10:00:00.000Z');
    expect(linkRetentionEpochSeconds(expires)).toBe(Date.parse('2026-02-15T10:00:00.000Z') / 1000);
  });
});
