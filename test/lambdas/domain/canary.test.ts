import {
  addCanary,
  CANARY_OPERATIONS,
  canaryFor,
  canarySearchStart,
  dueCanaries,
  isWorkflowRecord,
  judgeCanary,
  MAX_SEEN_CANARIES_IN_STATE,
  parseCanaries,
  proveCanaries,
} from '../../../lambdas/domain/canary.js';
import { CANARY_EVENT_NAMES, type CloudTrailRecord } from '../../../lambdas/domain/cloudtrail.js';
import { EventSourceBlindError } from '../../../lambdas/domain/errors.js';
import type { Canary } from '../../../lambdas/domain/types.js';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ROLE = 'arn:aws:iam::111122223333:role/Guard-CheckRole';
const NOW = new Date('2026-01-01T12:00:00.000Z');
const CTX = {
  keyArn: KEY_ARN,
  logGroupName: 'trail',
  lagSeconds: 1800,
  now: NOW,
  workflowPrincipalArns: [ROLE],
};

function canary(requestId: string, at: string, seen = false): Canary {
  return { requestId, at, operation: 'Encrypt', errorCode: 'DisabledException', seen };
}

function record(requestID: string, eventTime: string, issuer = ROLE): CloudTrailRecord {
  return {
    eventID: `event-${requestID}`,
    eventTime,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Encrypt',
    errorCode: 'DisabledException',
    requestID,
    userIdentity: { type: 'AssumedRole', sessionContext: { sessionIssuer: { arn: issuer } } },
  };
}

describe('canaryFor', () => {
  it.each([
    ['ENCRYPT_DECRYPT', 'SYMMETRIC_DEFAULT', 'Encrypt', 'SYMMETRIC_DEFAULT'],
    ['ENCRYPT_DECRYPT', 'RSA_2048', 'Encrypt', 'RSAES_OAEP_SHA_256'],
    ['SIGN_VERIFY', 'ECC_NIST_P256', 'Sign', 'ECDSA_SHA_256'],
    ['SIGN_VERIFY', 'ECC_NIST_P384', 'Sign', 'ECDSA_SHA_384'],
    ['SIGN_VERIFY', 'RSA_4096', 'Sign', 'RSASSA_PSS_SHA_256'],
    ['GENERATE_VERIFY_MAC', 'HMAC_512', 'GenerateMac', 'HMAC_SHA_512'],
    ['KEY_AGREEMENT', 'ECC_NIST_P521', 'DeriveSharedSecret', 'ECDH'],
  ])('%s %s -> %s with %s', (keyUsage, keySpec, operation, algorithm) => {
    // Act
    const plan = canaryFor({ keyUsage, keySpec });

    // Assess
    expect(plan).toMatchObject({ operation, algorithm });
  });

  it('gives DeriveSharedSecret the curve of the key', () => {
    expect(canaryFor({ keyUsage: 'KEY_AGREEMENT', keySpec: 'ECC_NIST_P384' })?.curve).toBe('secp384r1');
  });

  it('has no canary for a usage without a harmless failing call', () => {
    expect(canaryFor({ keyUsage: 'ENCAPSULATE_DECAPSULATE', keySpec: 'ML_KEM_768' })).toBeNull();
    expect(canaryFor({ keyUsage: 'GENERATE_VERIFY_MAC', keySpec: 'HMAC_999' })).toBeNull();
  });

  it('uses exactly the operations the CloudTrail search looks for', () => {
    expect([...CANARY_OPERATIONS].sort()).toEqual([...CANARY_EVENT_NAMES].sort());
  });
});

describe('judgeCanary', () => {
  it.each([
    ['DISABLED', { ok: false, errorName: 'DisabledException', message: 'x is disabled.' }, 'EXPECTED'],
    ['DISABLED', { ok: true }, 'KEY_USABLE'],
    ['DISABLED', { ok: false, errorName: 'ThrottlingException', message: 'slow down' }, 'UNEXPECTED'],
    ['PENDING_DELETION', { ok: false, errorName: 'KMSInvalidStateException', message: 'x' }, 'EXPECTED'],
    [
      'PENDING_DELETION',
      { ok: false, errorName: 'DisabledException', message: 'x is pending deletion.' },
      'EXPECTED',
    ],
    [
      'PENDING_DELETION',
      { ok: false, errorName: 'DisabledException', message: 'x is disabled.' },
      'UNEXPECTED',
    ],
    ['PENDING_DELETION', { ok: true }, 'KEY_USABLE'],
  ] as const)('%s, %j -> %s', (expectation, outcome, verdict) => {
    expect(judgeCanary(expectation, outcome)).toBe(verdict);
  });
});

describe('dueCanaries / canarySearchStart', () => {
  it('is due only once it is at least the lag old and not seen', () => {
    // Prepare
    const list = [
      canary('old', '2026-01-01T06:00:00.000Z'),
      canary('exactly-lag', '2026-01-01T11:30:00.000Z'),
      canary('young', '2026-01-01T11:31:00.000Z'),
      canary('seen', '2026-01-01T00:00:00.000Z', true),
    ];

    // Act
    const due = dueCanaries(list, NOW, 1800);

    // Assess
    expect(due.map((c) => c.requestId)).toEqual(['old', 'exactly-lag']);
    expect(canarySearchStart(due).toISOString()).toBe('2026-01-01T05:59:00.000Z');
  });
});

describe('proveCanaries', () => {
  it('marks a due canary seen when its request ID is in the records', () => {
    // Prepare
    const list = [canary('a', '2026-01-01T06:00:00.000Z'), canary('b', '2026-01-01T11:50:00.000Z')];

    // Act
    const proof = proveCanaries(list, [record('a', '2026-01-01T06:00:00Z')], CTX);

    // Assess
    expect(proof.newlySeen).toBe(1);
    expect(proof.canaries.map((c) => [c.requestId, c.seen])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('calls the source blind when the canary reached the log group later than the ingestion lag', () => {
    // Prepare: a trail that delivers in 45 minutes while the windows overlap by 30.
    const list = [canary('a', '2026-01-01T06:00:00.000Z')];
    const ingestedAt = new Map([['event-a', Date.parse('2026-01-01T06:45:00Z')]]);

    // Act
    const act = () => proveCanaries(list, [record('a', '2026-01-01T06:00:00Z')], { ...CTX, ingestedAt });

    // Assess
    expect(act).toThrow(EventSourceBlindError);
    expect(act).toThrow(/45 minutes after the call, later than the ingestion lag of 30 minutes/);
  });

  it('accepts a canary delivered within the ingestion lag', () => {
    // Prepare
    const list = [canary('a', '2026-01-01T06:00:00.000Z')];
    const ingestedAt = new Map([['event-a', Date.parse('2026-01-01T06:29:00Z')]]);

    // Act
    const proof = proveCanaries(list, [record('a', '2026-01-01T06:00:00Z')], { ...CTX, ingestedAt });

    // Assess
    expect(proof.newlySeen).toBe(1);
  });

  it('throws EventSourceBlindError naming the canary, its time and the log group when it is missing', () => {
    // Prepare
    const list = [canary('a', '2026-01-01T06:00:00.000Z')];

    // Act
    const act = () =>
      proveCanaries(
        list,
        [record('other', '2026-01-01T06:00:00Z', 'arn:aws:iam::111122223333:role/app')],
        CTX,
      );

    // Assess
    expect(act).toThrow(EventSourceBlindError);
    expect(act).toThrow(
      /canary Encrypt on arn:aws:kms:.*key\/1234abcd.* at 2026-01-01T06:00:00.000Z \(request ID a\).*log group trail 360 minutes later/,
    );
  });

  it('matches a canary whose request ID the trail does not show by operation, time and the workflow principal', () => {
    // Prepare
    const list = [canary('sdk-request-id', '2026-01-01T06:00:00.000Z')];
    const late = () => proveCanaries(list, [record('x', '2026-01-01T06:05:00Z')], CTX);

    // Act
    const mine = proveCanaries(list, [record('trail-request-id', '2026-01-01T05:59:59Z')], CTX);

    // Assess
    expect(mine.newlySeen).toBe(1);
    expect(late).toThrow(EventSourceBlindError);
  });

  it('matches a canary without request ID by operation, time and the workflow principal', () => {
    // Prepare
    const list = [canary('', '2026-01-01T06:00:00.000Z')];

    // Act
    const mine = proveCanaries(list, [record('x', '2026-01-01T06:00:01Z')], CTX);
    const theirs = () =>
      proveCanaries(list, [record('x', '2026-01-01T06:00:01Z', 'arn:aws:iam::111122223333:role/app')], CTX);

    // Assess
    expect(mine.newlySeen).toBe(1);
    expect(theirs).toThrow(EventSourceBlindError);
  });

  it('requires a seen canary at least one lag old when asked (FinalCheck)', () => {
    // Prepare
    const young = [canary('y', '2026-01-01T11:50:00.000Z')];

    // Act
    const act = () => proveCanaries(young, [], { ...CTX, requireRecentProof: true });
    const ok = proveCanaries(
      [canary('o', '2026-01-01T11:30:00.000Z')],
      [record('o', '2026-01-01T11:30:00Z')],
      { ...CTX, requireRecentProof: true },
    );

    // Assess
    expect(act).toThrow(/No canary of this execution has shown up/);
    expect(ok.newlySeen).toBe(1);
  });
});

describe('isWorkflowRecord', () => {
  it("tells the workflow's canaries and roles apart from a real caller in the same minute", () => {
    // Prepare
    const list = [canary('canary-1', '2026-01-01T06:00:00.000Z')];
    const app = 'arn:aws:iam::111122223333:role/app';

    // Act / Assess
    expect(isWorkflowRecord(record('canary-1', '2026-01-01T06:00:00Z', app), list, [])).toBe(true);
    expect(isWorkflowRecord(record('unknown', '2026-01-01T06:00:10Z'), list, [ROLE])).toBe(true);
    expect(isWorkflowRecord(record('app-1', '2026-01-01T06:00:10Z', app), list, [ROLE])).toBe(false);
    expect(
      isWorkflowRecord(record('', '2026-01-01T06:00:10Z', app), [canary('', NOW.toISOString())], []),
    ).toBe(false);
  });
});

describe('addCanary / parseCanaries', () => {
  it('keeps every unseen canary and only the newest seen ones', () => {
    // Prepare
    const seen = Array.from({ length: MAX_SEEN_CANARIES_IN_STATE + 5 }, (_, i) =>
      canary(`s${i}`, new Date(Date.UTC(2026, 0, 1, i)).toISOString(), true),
    );
    const waiting = canary('w', '2026-01-02T00:00:00.000Z');

    // Act
    const list = addCanary([waiting, ...seen], canary('new', '2026-01-03T00:00:00.000Z'));

    // Assess
    expect(list.filter((c) => c.seen)).toHaveLength(MAX_SEEN_CANARIES_IN_STATE);
    expect(list.map((c) => c.requestId)).toContain('w');
    expect(list.map((c) => c.requestId)).toContain('new');
    expect(list.map((c) => c.requestId)).not.toContain('s0');
  });

  it('reads a state without canaries as none and refuses a malformed list', () => {
    expect(parseCanaries(undefined)).toEqual([]);
    expect(() => parseCanaries([{ requestId: 1 }])).toThrow(/watch.canaries is malformed/);
  });
});
