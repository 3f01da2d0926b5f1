import {
  type CloudTrailRecord,
  containsArnToken,
  isBreakage,
  isOwnCall,
  type KeyRef,
  keyArnsNamedBy,
  recordConcernsKey,
  recordMatchesKind,
  TRACKED_OPERATIONS,
  toEvidence,
} from '../../../lambdas/domain/cloudtrail.js';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}`;
const OTHER_KEY_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
const OTHER_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${OTHER_KEY_ID}`;
const KEY: KeyRef = { keyId: KEY_ID, keyArn: KEY_ARN, aliases: ['alias/legacy'] };
const APP_ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;

/** A failed Decrypt as CloudTrail records it for a disabled key: the key ARN in resources and in the error text. */
function failedCall(overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:app-session',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/app-session`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { arn: APP_ROLE } },
    },
    eventTime: '2026-01-12T10:00:00Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: REGION,
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-sdk-js/3.0.0',
    errorCode: 'DisabledException',
    errorMessage: `${KEY_ARN} is disabled.`,
    requestParameters: { keyId: KEY_ID, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    responseElements: null,
    requestID: 'req-1',
    eventID: 'ev-1',
    readOnly: true,
    resources: [{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: KEY_ARN }],
    recipientAccountId: ACCOUNT,
    ...overrides,
  };
}

/** Only the request parameters name a key: no resources, no error message. */
function requestOnly(keyId: string, overrides: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return failedCall({
    resources: [],
    errorMessage: 'Access denied',
    requestParameters: { keyId },
    ...overrides,
  });
}

describe('recordConcernsKey', () => {
  it.each([
    ['the key ID', KEY_ID],
    ['the key ARN', KEY_ARN],
    ['an alias name', 'alias/legacy'],
    ['the alias ARN', `arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy`],
  ])('matches a caller that named the key by %s', (_label, keyId) => {
    // Prepare
    const record = requestOnly(keyId);

    // Act
    const concerns = recordConcernsKey(record, KEY);

    // Assess
    expect(concerns).toBe(true);
  });

  it('matches a Decrypt without keyId by resources[0].ARN', () => {
    // Prepare
    const record = failedCall({
      requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
      errorMessage: '',
    });

    // Act
    const concerns = recordConcernsKey(record, KEY);

    // Assess
    expect(concerns).toBe(true);
  });

  it('matches the key ARN in errorMessage alone', () => {
    // Prepare
    const record = failedCall({ resources: [], requestParameters: null });

    // Act
    const concerns = recordConcernsKey(record, KEY);

    // Assess
    expect(concerns).toBe(true);
  });

  it('does not match another key', () => {
    // Prepare
    const record = failedCall({
      errorMessage: `${OTHER_KEY_ARN} is disabled.`,
      requestParameters: { keyId: OTHER_KEY_ID },
      resources: [{ ARN: OTHER_KEY_ARN }],
    });

    // Act
    const concerns = recordConcernsKey(record, KEY);

    // Assess
    expect(concerns).toBe(false);
  });

  it('does not match an alias that only shares a prefix with ours', () => {
    // Prepare
    const byName = requestOnly('alias/legacy-2');
    const byArn = requestOnly(`arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy-2`);

    // Act
    const concerns = [recordConcernsKey(byName, KEY), recordConcernsKey(byArn, KEY)];

    // Assess
    expect(concerns).toEqual([false, false]);
  });

  it('does not match an error message naming a longer ARN that starts with ours', () => {
    // Prepare
    const longer = `${KEY_ARN}0`;
    const record = failedCall({
      errorMessage: `${longer} is disabled.`,
      resources: [{ ARN: longer }],
      requestParameters: { keyId: longer },
    });

    // Act
    const concerns = recordConcernsKey(record, KEY);

    // Assess
    expect(concerns).toBe(false);
  });

  it('does not take a bare alias used in another Region or account for ours', () => {
    // Prepare
    const otherRegion = requestOnly('alias/legacy', { awsRegion: 'eu-west-1' });
    const otherAccount = requestOnly('alias/legacy', {
      userIdentity: {
        type: 'AssumedRole',
        accountId: '444455556666',
        arn: 'arn:aws:sts::444455556666:assumed-role/x/y',
      },
    });

    // Act
    const concerns = [recordConcernsKey(otherRegion, KEY), recordConcernsKey(otherAccount, KEY)];

    // Assess
    expect(concerns).toEqual([false, false]);
  });

  it('matches a cross-account caller that used the key ARN', () => {
    // Prepare
    const record = requestOnly(KEY_ARN, { userIdentity: { type: 'AssumedRole', accountId: '444455556666' } });

    // Act
    const concerns = recordConcernsKey(record, KEY);

    // Assess
    expect(concerns).toBe(true);
  });

  it('matches ReEncrypt naming our key as destination', () => {
    // Prepare
    const record = failedCall({
      eventName: 'ReEncrypt',
      resources: [],
      errorMessage: '',
      requestParameters: { sourceKeyId: OTHER_KEY_ARN, destinationKeyId: 'alias/legacy' },
    });

    // Act
    const concerns = recordConcernsKey(record, KEY);

    // Assess
    expect(concerns).toBe(true);
  });
});

describe('containsArnToken', () => {
  it('accepts the ARN followed by the sentence period or a quote, rejects a longer ARN', () => {
    // Act
    const results = [
      containsArnToken(`${KEY_ARN} is pending deletion.`, KEY_ARN),
      containsArnToken(`Key '${KEY_ARN}' does not exist`, KEY_ARN),
      containsArnToken(`ends with ${KEY_ARN}.`, KEY_ARN),
      containsArnToken(`${KEY_ARN}-x is disabled.`, KEY_ARN),
      containsArnToken(`${KEY_ARN}.more`, KEY_ARN),
    ];

    // Assess
    expect(results).toEqual([true, true, true, false, false]);
  });
});

describe('isBreakage', () => {
  it('counts DisabledException before deletion is scheduled, not KMSInvalidStateException', () => {
    // Prepare
    const disabled = failedCall();
    const invalidState = failedCall({ errorCode: 'KMSInvalidStateException' });
    const success = failedCall({ errorCode: undefined, errorMessage: undefined });

    // Act
    const results = [disabled, invalidState, success].map((record) => isBreakage(record, 'OBSERVE'));
    const final = isBreakage(disabled, 'FINAL');

    // Assess
    expect(results).toEqual([true, false, false]);
    expect(final).toBe(true);
  });

  it('counts KMSInvalidStateException and every DisabledException in the pending window', () => {
    // Prepare
    const invalidState = failedCall({
      errorCode: 'KMSInvalidStateException',
      errorMessage: `${KEY_ARN} is pending deletion.`,
    });
    const disabledPending = failedCall({ errorMessage: `${KEY_ARN} is pending deletion.` });
    const disabledPlain = failedCall();
    const denied = failedCall({ errorCode: 'AccessDenied' });

    // Act
    const results = [invalidState, disabledPending, disabledPlain, denied].map((r) =>
      isBreakage(r, 'PENDING'),
    );

    // Assess
    expect(results).toEqual([true, true, true, false]);
  });

  it('ignores other services', () => {
    // Prepare
    const record = failedCall({ eventSource: 's3.amazonaws.com' });

    // Act
    const breakage = isBreakage(record, 'OBSERVE');

    // Assess
    expect(breakage).toBe(false);
  });
});

describe('recordMatchesKind', () => {
  it('tells successful use and public key downloads from failures', () => {
    // Prepare
    const decryptOk = failedCall({ errorCode: undefined, errorMessage: undefined });
    const publicKey = failedCall({
      eventName: 'GetPublicKey',
      errorCode: undefined,
      errorMessage: undefined,
    });
    const describeKey = failedCall({
      eventName: 'DescribeKey',
      errorCode: undefined,
      errorMessage: undefined,
    });

    // Act
    const results = [
      recordMatchesKind(decryptOk, 'SUCCESSFUL_USE'),
      recordMatchesKind(failedCall(), 'SUCCESSFUL_USE'),
      recordMatchesKind(describeKey, 'SUCCESSFUL_USE'),
      recordMatchesKind(publicKey, 'PUBLIC_KEY_DOWNLOAD'),
      recordMatchesKind(publicKey, 'SUCCESSFUL_USE'),
      recordMatchesKind(failedCall(), 'BREAKAGE'),
    ];

    // Assess
    expect(results).toEqual([true, false, false, true, false, true]);
  });
});

describe('recordMatchesKind CANARY', () => {
  it('takes failed canary operations only', () => {
    // Prepare
    const encryptDisabled = failedCall({ eventName: 'Encrypt' });
    const signPending = failedCall({ eventName: 'Sign', errorCode: 'KMSInvalidStateException' });

    // Act
    const results = [
      recordMatchesKind(encryptDisabled, 'CANARY'),
      recordMatchesKind(signPending, 'CANARY'),
      recordMatchesKind(failedCall({ eventName: 'Decrypt' }), 'CANARY'),
      recordMatchesKind(failedCall({ eventName: 'Encrypt', errorCode: 'AccessDeniedException' }), 'CANARY'),
      recordMatchesKind(failedCall({ eventName: 'Encrypt', errorCode: undefined }), 'CANARY'),
    ];

    // Assess
    expect(results).toEqual([true, true, false, false, false]);
  });
});

describe('isOwnCall', () => {
  const WORKFLOW_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/guard-check`;

  it('recognises the workflow role by session issuer and by assumed-role ARN', () => {
    // Prepare
    const byIssuer = failedCall({
      userIdentity: { sessionContext: { sessionIssuer: { arn: WORKFLOW_ROLE } } },
    });
    const byArn = failedCall({
      userIdentity: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/guard-check/fn` },
    });

    // Act
    const results = [isOwnCall(byIssuer, [WORKFLOW_ROLE]), isOwnCall(byArn, [WORKFLOW_ROLE])];

    // Assess
    expect(results).toEqual([true, true]);
  });

  it('never excludes an application caller, nor anything when no principal is known', () => {
    // Prepare
    const app = failedCall();
    const sameNameOtherAccount = failedCall({
      userIdentity: { arn: 'arn:aws:sts::444455556666:assumed-role/guard-check/fn' },
    });

    // Act
    const results = [
      isOwnCall(app, [WORKFLOW_ROLE]),
      isOwnCall(sameNameOtherAccount, [WORKFLOW_ROLE]),
      isOwnCall(app, []),
    ];

    // Assess
    expect(results).toEqual([false, false, false]);
  });
});

describe('toEvidence', () => {
  it('names the session issuer as principal and keeps the call facts', () => {
    // Act
    const evidence = toEvidence(failedCall());

    // Assess
    expect(evidence).toEqual({
      eventID: 'ev-1',
      eventTime: '2026-01-12T10:00:00Z',
      eventName: 'Decrypt',
      errorCode: 'DisabledException',
      principal: APP_ROLE,
      sourceIPAddress: '203.0.113.10',
      userAgent: 'aws-sdk-js/3.0.0',
      recipientAccountId: ACCOUNT,
    });
  });

  it('falls back to the user ARN, then the principal ID, then unknown', () => {
    // Prepare
    const user = failedCall({
      userIdentity: { arn: `arn:aws:iam::${ACCOUNT}:user/alice`, principalId: 'AIDA' },
    });
    const service = failedCall({ userIdentity: { principalId: 'AIDA' } });
    const none = failedCall({ userIdentity: undefined, sourceIPAddress: undefined, userAgent: undefined });

    // Act
    const principals = [user, service, none].map((record) => toEvidence(record).principal);

    // Assess
    expect(principals).toEqual([`arn:aws:iam::${ACCOUNT}:user/alice`, 'AIDA', 'unknown']);
    expect(toEvidence(none).sourceIPAddress).toBe('unknown');
  });
});

describe('TRACKED_OPERATIONS', () => {
  it('is exactly the Operation enum of GetKeyLastUsage in the KMS service model', async () => {
    // Prepare
    const { KeyLastUsageTrackingOperation } = await import('@aws-sdk/client-kms');

    // Act
    const domain = [...TRACKED_OPERATIONS].sort();

    // Assess
    expect(domain).toEqual(Object.values(KeyLastUsageTrackingOperation).sort());
  });
});

describe('keyArnsNamedBy', () => {
  const failed = (overrides: Partial<CloudTrailRecord>): CloudTrailRecord => ({
    eventID: 'ev',
    eventTime: '2026-02-12T06:00:00Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    errorCode: 'DisabledException',
    ...overrides,
  });

  it('names the key of the resources, of the error message and of ARN parameters', () => {
    // Act
    const arns = keyArnsNamedBy(
      failed({
        resources: [{ ARN: KEY_ARN }],
        errorMessage: `${OTHER_KEY_ARN} is disabled.`,
        requestParameters: { keyId: KEY_ARN },
      }),
    );

    // Assess
    expect(arns?.sort()).toEqual([KEY_ARN, OTHER_KEY_ARN].sort());
  });

  it('takes a call naming one key by alias for the one key ARN its record carries: KMS resolved the alias', () => {
    // Act
    const arns = keyArnsNamedBy(
      failed({ resources: [{ ARN: KEY_ARN }], requestParameters: { keyId: 'alias/legacy' } }),
    );

    // Assess
    expect(arns).toEqual([KEY_ARN]);
  });

  it.each([
    ['an alias and no key ARN in the record', { requestParameters: { keyId: 'alias/legacy' } }],
    ['a bare key ID and no key ARN in the record', { requestParameters: { keyId: KEY_ID } }],
    [
      'two keys, one of them by alias (which of the ARNs is it?)',
      {
        eventName: 'ReEncrypt',
        resources: [{ ARN: KEY_ARN }, { ARN: OTHER_KEY_ARN }],
        requestParameters: { sourceKeyId: KEY_ARN, destinationKeyId: 'alias/target' },
      },
    ],
    [
      'one key by alias and two key ARNs in the record',
      { resources: [{ ARN: KEY_ARN }, { ARN: OTHER_KEY_ARN }], requestParameters: { keyId: 'alias/legacy' } },
    ],
  ])('leaves to every hold a record with %s', (_case, overrides: Partial<CloudTrailRecord>) => {
    // Act
    const arns = keyArnsNamedBy(failed(overrides));

    // Assess
    expect(arns).toBeNull();
  });

  it('ignores alias ARNs in the resources and text', () => {
    // Act
    const arns = keyArnsNamedBy(
      failed({
        resources: [{ ARN: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy` }],
        errorMessage: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy is not found.`,
        requestParameters: { keyId: KEY_ARN },
      }),
    );

    // Assess
    expect(arns).toEqual([KEY_ARN]);
  });
});
