import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAliasCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DeriveSharedSecretCommand,
  DescribeKeyCommand,
  ListAliasesCommand,
  ListResourceTagsCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import type { EmittedRecord } from '../../../../lib/simulator/emulator/account.js';
import {
  ACCOUNT,
  APP_ROLE,
  DAY,
  KEY_ARN,
  KEY_ID,
  LOG_GROUP,
  MINUTE,
  OTHER_KEY_ARN,
  OTHER_KEY_ID,
  REGION,
  useEmulatorServer,
} from './fixtures.js';

const PARTNER = '444455556666';
const PARTNER_ROLE = `arn:aws:iam::${PARTNER}:role/partner-app`;
const HMAC_KEY_ID = '5555eeee-12ab-34cd-56ef-1234567890ab';

async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('expected the call to fail');
}

describe('the emulated account expresses the world as it is', () => {
  const emulator = useEmulatorServer();

  /** Every record the log group shows once delivered, read through the real CloudWatch Logs client. */
  async function delivered(): Promise<Record<string, unknown>[]> {
    emulator.clock.advance(10 * MINUTE);
    const page = await emulator.logs().send(new FilterLogEventsCommand({ logGroupName: LOG_GROUP }));
    return (page.events ?? []).map((event) => JSON.parse(event.message ?? '{}') as Record<string, unknown>);
  }

  describe('calls[].omitKeyId: the usual symmetric Decrypt', () => {
    it('leaves keyId out of the record; the key is in resources and the error message', async () => {
      // Prepare
      emulator.account.serve('kms', 'DisableKey', { KeyId: KEY_ID }, workflowCaller());

      // Act
      const answer = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'Decrypt',
        principalArn: APP_ROLE,
        omitKeyId: true,
      });
      const records = await delivered();

      // Assess
      const decrypt = records.find((r) => r.eventName === 'Decrypt');
      expect(answer).toMatchObject({ ok: false, errorCode: 'DisabledException' });
      expect(decrypt?.requestParameters).not.toHaveProperty('keyId');
      expect(decrypt?.resources).toEqual([{ accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: KEY_ARN }]);
      expect(decrypt?.errorMessage).toBe(`${KEY_ARN} is disabled.`);
    });

    it('names the key in keyId when the call sends it (the default)', async () => {
      // Act
      emulator.account.appCall({ keyId: KEY_ID, operation: 'Decrypt', principalArn: APP_ROLE });
      const records = await delivered();

      // Assess
      expect(records.find((r) => r.eventName === 'Decrypt')?.requestParameters).toMatchObject({
        keyId: KEY_ID,
      });
    });

    it('reaches our key from another account by the ciphertext alone, though a bare ID names no key there', () => {
      // Act
      const named = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'Decrypt',
        principalArn: PARTNER_ROLE,
      });
      const byCiphertext = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'Decrypt',
        principalArn: PARTNER_ROLE,
        omitKeyId: true,
      });

      // Assess
      expect(named).toMatchObject({ ok: false, errorCode: 'NotFoundException' });
      expect(byCiphertext).toMatchObject({ ok: true });
    });
  });

  describe('calls[].invokedBy: an AWS service calling for the principal', () => {
    it('names the service in userIdentity.invokedBy, sourceIPAddress and userAgent', async () => {
      // Act
      emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'GenerateDataKey',
        principalArn: APP_ROLE,
        invokedBy: 's3.amazonaws.com',
      });
      const [record] = await delivered();

      // Assess
      expect(record?.userIdentity).toMatchObject({
        type: 'AssumedRole',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app/app`,
        invokedBy: 's3.amazonaws.com',
      });
      expect(record?.sourceIPAddress).toBe('s3.amazonaws.com');
      expect(record?.userAgent).toBe('s3.amazonaws.com');
    });

    it("shows the caller's own address and agent without it", async () => {
      // Act
      emulator.account.appCall({ keyId: KEY_ID, operation: 'GenerateDataKey', principalArn: APP_ROLE });
      const [record] = await delivered();

      // Assess
      expect(record?.userIdentity).not.toHaveProperty('invokedBy');
      expect(record?.sourceIPAddress).toMatch(/^10\./);
    });
  });

  describe("calls[].loggedIn: another account's call", () => {
    it('with caller, leaves no record in our trail (and none for EventBridge) though KMS answered', async () => {
      // Prepare
      const seen: EmittedRecord[] = [];
      emulator.account.onRecord((record) => seen.push(record));
      emulator.account.serve('kms', 'DisableKey', { KeyId: KEY_ID }, workflowCaller());

      // Act
      const answer = emulator.account.appCall({
        keyId: KEY_ARN,
        operation: 'Decrypt',
        principalArn: PARTNER_ROLE,
        loggedIn: 'caller',
      });
      const records = await delivered();

      // Assess
      expect(answer).toMatchObject({ ok: false, errorCode: 'DisabledException' });
      expect(answer).not.toHaveProperty('eventID');
      expect(records.map((r) => r.eventName)).toEqual(['DisableKey']);
      expect(seen.map((e) => e.record.eventName)).toEqual(['DisableKey']);
    });

    it('with both (the default), logs the call in our account too', async () => {
      // Act
      emulator.account.appCall({ keyId: KEY_ARN, operation: 'Decrypt', principalArn: PARTNER_ROLE });
      const records = await delivered();

      // Assess
      expect(records.find((r) => r.eventName === 'Decrypt')?.userIdentity).toMatchObject({
        accountId: PARTNER,
      });
    });
  });

  describe('calls[].eventBridge / eventBridgeLag', () => {
    it("travel with the call's record to the bus", () => {
      // Prepare
      const seen: EmittedRecord[] = [];
      emulator.account.onRecord((record) => seen.push(record));

      // Act
      emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'Encrypt',
        principalArn: APP_ROLE,
        eventBridge: 'drop',
        eventBridgeLagMs: 7 * MINUTE,
      });
      emulator.account.appCall({ keyId: KEY_ID, operation: 'Encrypt', principalArn: APP_ROLE });

      // Assess
      expect(seen[0]?.eventBridge).toEqual({ mode: 'drop', lagMs: 7 * MINUTE });
      expect(seen[1]).not.toHaveProperty('eventBridge');
    });
  });

  describe('calls[].tags / tagKeys', () => {
    it('TagResource sets the chosen tags; UntagResource removes only the chosen keys', async () => {
      // Act
      const tagged = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'TagResource',
        principalArn: APP_ROLE,
        tags: { owner: 'alice', 'kms-deletion-guard:status': 'forged' },
      });
      const untagged = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'UntagResource',
        principalArn: APP_ROLE,
        tagKeys: ['team'],
      });
      const tags = await emulator.kms().send(new ListResourceTagsCommand({ KeyId: KEY_ID }));

      // Assess
      expect(tagged.ok && untagged.ok).toBe(true);
      expect(tags.Tags).toEqual([
        { TagKey: 'owner', TagValue: 'alice' },
        { TagKey: 'kms-deletion-guard:status', TagValue: 'forged' },
      ]);
    });

    it('UntagResource without tagKeys removes every tag, as before the field existed', () => {
      // Act
      emulator.account.appCall({ keyId: KEY_ID, operation: 'UntagResource', principalArn: APP_ROLE });

      // Assess
      expect(emulator.account.inspectKey(KEY_ID)?.tags).toEqual({});
    });

    it('refuses a reserved tag key with the text KMS answers', () => {
      // Act
      const answer = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'TagResource',
        principalArn: APP_ROLE,
        tags: { 'aws:owner': 'x' },
      });

      // Assess
      expect(answer).toMatchObject({
        ok: false,
        errorCode: 'TagException',
        errorMessage: 'Tags beginning with aws: are reserved',
      });
    });
  });

  describe('calls[].alias: CreateAlias, UpdateAlias, DeleteAlias', () => {
    it('creates, moves and deletes an alias, each logged with the alias and the key in resources', async () => {
      // Act
      const created = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'CreateAlias',
        principalArn: APP_ROLE,
        alias: 'alias/payments',
      });
      const afterCreate = emulator.account.inspectKey(KEY_ID)?.aliases;
      const moved = emulator.account.appCall({
        keyId: OTHER_KEY_ID,
        operation: 'UpdateAlias',
        principalArn: APP_ROLE,
        alias: 'alias/payments',
      });
      const afterMove = emulator.account.inspectKey(OTHER_KEY_ID)?.aliases;
      const deleted = emulator.account.appCall({
        keyId: OTHER_KEY_ID,
        operation: 'DeleteAlias',
        principalArn: APP_ROLE,
        alias: 'alias/payments',
      });
      const records = await delivered();

      // Assess
      const aliasArn = `arn:aws:kms:${REGION}:${ACCOUNT}:alias/payments`;
      expect([created.ok, moved.ok, deleted.ok]).toEqual([true, true, true]);
      expect(afterCreate).toEqual(['alias/legacy', 'alias/payments']);
      expect(afterMove).toEqual(['alias/payments']);
      expect(emulator.account.inspectKey(OTHER_KEY_ID)?.aliases).toEqual([]);
      const byName = (name: string) => records.find((r) => r.eventName === name);
      expect(byName('CreateAlias')).toMatchObject({
        readOnly: false,
        requestParameters: { aliasName: 'alias/payments', targetKeyId: KEY_ID },
        responseElements: { keyId: KEY_ARN },
        resources: [
          { type: 'AWS::KMS::Key', ARN: KEY_ARN },
          { type: 'AWS::KMS::Key', ARN: aliasArn },
        ],
      });
      expect(byName('UpdateAlias')?.resources).toMatchObject([{ ARN: aliasArn }, { ARN: OTHER_KEY_ARN }]);
      expect(byName('DeleteAlias')).toMatchObject({
        requestParameters: { aliasName: 'alias/payments' },
        resources: [{ ARN: aliasArn }, { ARN: OTHER_KEY_ARN }],
      });
    });

    it('answers through the SDK with the errors KMS gives', async () => {
      // Prepare
      const kms = emulator.kms();
      emulator.account.addKey({ keyId: HMAC_KEY_ID, createdAt: new Date('2025-01-01'), keySpec: 'HMAC_256' });

      // Act
      const exists = await failure(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/legacy', TargetKeyId: OTHER_KEY_ID })),
      );
      const noPrefix = await failure(
        kms.send(new CreateAliasCommand({ AliasName: 'legacy2', TargetKeyId: KEY_ID })),
      );
      const reserved = await failure(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: KEY_ID })),
      );
      const toAlias = await failure(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/x', TargetKeyId: 'alias/legacy' })),
      );
      const missing = await failure(
        kms.send(new UpdateAliasCommand({ AliasName: 'alias/none', TargetKeyId: KEY_ID })),
      );
      const otherType = await failure(
        kms.send(new UpdateAliasCommand({ AliasName: 'alias/legacy', TargetKeyId: HMAC_KEY_ID })),
      );
      const gone = await failure(kms.send(new DeleteAliasCommand({ AliasName: 'alias/none' })));

      // Assess
      expect(exists).toEqual({
        name: 'AlreadyExistsException',
        message: `An alias with the name arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy already exists`,
      });
      expect(noPrefix).toEqual({
        name: 'ValidationException',
        message:
          'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
      });
      expect(reserved.name).toBe('NotAuthorizedException');
      expect(toAlias.name).toBe('InvalidArnException');
      expect(missing).toEqual({
        name: 'NotFoundException',
        message: `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/none is not found.`,
      });
      expect(otherType.name).toBe('ValidationException');
      expect(gone.name).toBe('NotFoundException');
      const aliases = await kms.send(new ListAliasesCommand({ KeyId: KEY_ID }));
      expect(aliases.Aliases?.map((a) => a.AliasName)).toEqual(['alias/legacy']);
    });

    it('refuses an alias to a key pending deletion, and still deletes the alias of one', async () => {
      // Prepare
      const kms = emulator.kms();
      emulator.account.serve(
        'kms',
        'ScheduleKeyDeletion',
        { KeyId: KEY_ID, PendingWindowInDays: 7 },
        workflowCaller(),
      );

      // Act
      const create = await failure(
        kms.send(new CreateAliasCommand({ AliasName: 'alias/late', TargetKeyId: KEY_ID })),
      );
      await kms.send(new DeleteAliasCommand({ AliasName: 'alias/legacy' }));

      // Assess
      expect(create).toEqual({
        name: 'KMSInvalidStateException',
        message: `${KEY_ARN} is pending deletion.`,
      });
      expect(emulator.account.inspectKey(KEY_ID)?.aliases).toEqual([]);
    });
  });

  describe("calls[].pendingWindowInDays: a person's ScheduleKeyDeletion", () => {
    it('schedules the deletion that many days ahead (30 without it)', () => {
      // Act
      emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'ScheduleKeyDeletion',
        principalArn: APP_ROLE,
        pendingWindowInDays: 9,
      });
      emulator.account.appCall({
        keyId: OTHER_KEY_ID,
        operation: 'ScheduleKeyDeletion',
        principalArn: APP_ROLE,
      });

      // Assess
      const now = emulator.clock.now().getTime();
      expect(emulator.account.inspectKey(KEY_ID)?.deletionDate?.getTime()).toBe(now + 9 * DAY);
      expect(emulator.account.inspectKey(OTHER_KEY_ID)?.deletionDate?.getTime()).toBe(now + 30 * DAY);
    });

    it('is refused outside 7-30 days with the ValidationException KMS gives', () => {
      // Act
      const answer = emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'ScheduleKeyDeletion',
        principalArn: APP_ROLE,
        pendingWindowInDays: 6,
      });

      // Assess
      expect(answer).toMatchObject({
        ok: false,
        errorCode: 'ValidationException',
        errorMessage: 'PendingWindowInDays must be between 7 and 30',
      });
    });
  });

  describe('KMS deletes a key at its DeletionDate', () => {
    it('logs DeleteKey as a service event, and answers NotFoundException from then on', async () => {
      // Prepare
      const kms = emulator.kms();
      emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'ScheduleKeyDeletion',
        principalArn: APP_ROLE,
        pendingWindowInDays: 7,
      });
      const deletionDate = emulator.account.inspectKey(KEY_ID)?.deletionDate;

      // Act
      emulator.clock.advance(7 * DAY - 1);
      const before = emulator.account.settleKeys();
      emulator.clock.advance(1);
      const deleted = emulator.account.settleKeys();
      const describe = await failure(kms.send(new DescribeKeyCommand({ KeyId: KEY_ID })));
      const byAlias = await failure(kms.send(new DescribeKeyCommand({ KeyId: 'alias/legacy' })));
      const decrypt = emulator.account.appCall({
        keyId: KEY_ARN,
        operation: 'Decrypt',
        principalArn: APP_ROLE,
      });
      const records = await delivered();

      // Assess
      expect(before).toEqual([]);
      expect(deleted.map((k) => [k.keyId, k.state, k.deletionDate])).toEqual([
        [KEY_ID, 'Deleted', deletionDate],
      ]);
      expect(describe).toEqual({
        name: 'NotFoundException',
        message: `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/${KEY_ID}' does not exist`,
      });
      expect(byAlias).toEqual({
        name: 'NotFoundException',
        message: `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy is not found.`,
      });
      expect(decrypt).toMatchObject({ ok: false, errorCode: 'NotFoundException' });
      expect(records.find((r) => r.eventName === 'DeleteKey')).toMatchObject({
        eventTime: `${deletionDate?.toISOString().slice(0, 19)}Z`,
        eventType: 'AwsServiceEvent',
        userIdentity: { accountId: ACCOUNT, invokedBy: 'AWS Internal' },
        requestParameters: null,
        responseElements: { keyId: KEY_ARN },
        resources: [{ ARN: KEY_ARN }],
      });
      expect(emulator.account.nextDeletionAt()).toBeNull();
    });
  });

  describe('keys[].origin', () => {
    it.each([
      ['AWS_KMS', { Origin: 'AWS_KMS' }, ['ExpirationModel', 'CustomKeyStoreId']],
      [
        'EXTERNAL',
        { Origin: 'EXTERNAL', ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
        ['CustomKeyStoreId'],
      ],
      ['AWS_CLOUDHSM', { Origin: 'AWS_CLOUDHSM' }, ['ExpirationModel', 'XksKeyConfiguration']],
      ['EXTERNAL_KEY_STORE', { Origin: 'EXTERNAL_KEY_STORE' }, ['ExpirationModel', 'CloudHsmClusterId']],
    ] as const)('DescribeKey says %s and only the fields that origin has', async (origin, fields, absent) => {
      // Prepare
      emulator.account.addKey({ keyId: HMAC_KEY_ID, createdAt: new Date('2025-01-01'), origin });

      // Act
      const { KeyMetadata } = await emulator.kms().send(new DescribeKeyCommand({ KeyId: HMAC_KEY_ID }));

      // Assess
      expect(KeyMetadata).toMatchObject(fields);
      for (const field of absent) expect(KeyMetadata).not.toHaveProperty(field);
      if (origin === 'AWS_CLOUDHSM') {
        expect(KeyMetadata?.CustomKeyStoreId).toMatch(/^cks-[0-9a-f]{17}$/);
        expect(KeyMetadata?.CloudHsmClusterId).toMatch(/^cluster-/);
      }
      if (origin === 'EXTERNAL_KEY_STORE') {
        expect(KeyMetadata?.XksKeyConfiguration?.Id).toBeTruthy();
      }
    });

    it("DeriveSharedSecret's KeyOrigin is the key's", async () => {
      // Prepare
      emulator.account.addKey({
        keyId: HMAC_KEY_ID,
        createdAt: new Date('2025-01-01'),
        keySpec: 'ECC_NIST_P256',
        keyUsage: 'KEY_AGREEMENT',
        origin: 'EXTERNAL',
      });

      // Act
      const answer = await emulator.kms().send(
        new DeriveSharedSecretCommand({
          KeyId: HMAC_KEY_ID,
          KeyAgreementAlgorithm: 'ECDH',
          PublicKey: Buffer.from('peer'),
        }),
      );

      // Assess
      expect(answer.KeyOrigin).toBe('EXTERNAL');
    });
  });

  it('a Decrypt through the SDK without KeyId reaches the key its ciphertext names', async () => {
    // Prepare
    const ciphertext = Buffer.from(
      JSON.stringify({ emulatedKms: 1, k: KEY_ARN, n: 0, p: Buffer.from('x').toString('base64') }),
    );

    // Act
    const answer = await emulator.kms().send(new DecryptCommand({ CiphertextBlob: ciphertext }));

    // Assess
    expect(answer.KeyId).toBe(KEY_ARN);
  });
});

function workflowCaller() {
  return {
    principalArn: `arn:aws:iam::${ACCOUNT}:role/guard-handler`,
    account: ACCOUNT,
    region: REGION,
    sourceIp: '127.0.0.1',
    userAgent: 'test',
  };
}
