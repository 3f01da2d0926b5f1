import {
  CancelKeyDeletionCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GetKeyLastUsageCommand,
  GetPublicKeyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-kms';
import {
  ACCOUNT,
  APP_ROLE,
  DAY,
  KEY_ARN,
  KEY_ID,
  OTHER_KEY_ARN,
  OTHER_KEY_ID,
  REGION,
  useEmulatorServer,
} from './fixtures.js';

async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('emulated KMS through the real SDK client', () => {
  const emulator = useEmulatorServer();

  describe('key resolution errors (the texts KMS itself answers with)', () => {
    it.each([
      [
        'unknown well-formed ID',
        OTHER_KEY_ID.replace('0987', 'ffff'),
        `Key 'arn:aws:kms:${REGION}:${ACCOUNT}:key/ffffdcba-09fe-87dc-65ba-ab0987654321' does not exist`,
      ],
      ['malformed ID', 'not-a-key', "Invalid keyId 'not-a-key'"],
      ['ARN of another Region', KEY_ARN.replace(REGION, 'eu-west-1'), 'Invalid arn eu-west-1'],
      ['missing alias', 'alias/nope', `Alias arn:aws:kms:${REGION}:${ACCOUNT}:alias/nope is not found.`],
    ])('DescribeKey with %s -> NotFoundException', async (_label, keyId, message) => {
      // Act
      const error = await failure(emulator.kms().send(new DescribeKeyCommand({ KeyId: keyId })));

      // Assess
      expect(error).toMatchObject({ name: 'NotFoundException', message, status: 400 });
    });

    it.each([
      'GetKeyLastUsage',
      'EnableKey',
      'DisableKey',
      'ScheduleKeyDeletion',
      'CancelKeyDeletion',
      'TagResource',
    ])('%s refuses an alias with InvalidArnException', async (operation) => {
      // Prepare
      const client = emulator.kms();
      const commands: Record<string, () => Promise<unknown>> = {
        GetKeyLastUsage: () => client.send(new GetKeyLastUsageCommand({ KeyId: 'alias/legacy' })),
        EnableKey: () => client.send(new EnableKeyCommand({ KeyId: 'alias/legacy' })),
        DisableKey: () => client.send(new DisableKeyCommand({ KeyId: 'alias/legacy' })),
        ScheduleKeyDeletion: () => client.send(new ScheduleKeyDeletionCommand({ KeyId: 'alias/legacy' })),
        CancelKeyDeletion: () => client.send(new CancelKeyDeletionCommand({ KeyId: 'alias/legacy' })),
        TagResource: () =>
          client.send(
            new TagResourceCommand({ KeyId: 'alias/legacy', Tags: [{ TagKey: 'a', TagValue: 'b' }] }),
          ),
      };

      // Act
      const error = await failure((commands[operation] as () => Promise<unknown>)());

      // Assess
      expect(error).toMatchObject({
        name: 'InvalidArnException',
        message: 'Key Aliases are not supported for this operation.',
      });
      expect(emulator.account.inspectKey(KEY_ID)?.state).toBe('Enabled');
    });

    it('resolves a key by alias name and alias ARN where KMS accepts aliases', async () => {
      // Act
      const byName = await emulator.kms().send(new DescribeKeyCommand({ KeyId: 'alias/legacy' }));
      const byArn = await emulator
        .kms()
        .send(new DescribeKeyCommand({ KeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy` }));

      // Assess
      expect(byName.KeyMetadata?.Arn).toBe(KEY_ARN);
      expect(byArn.KeyMetadata?.KeyId).toBe(KEY_ID);
      expect(byName.KeyMetadata?.CreationDate).toEqual(new Date('2024-01-01T00:00:00Z'));
    });
  });

  describe('state transitions', () => {
    it('Disable -> Schedule -> Cancel leaves the key Disabled, with the exact pending-deletion texts', async () => {
      // Prepare
      const client = emulator.kms();
      await client.send(new DisableKeyCommand({ KeyId: KEY_ID }));

      // Act
      const scheduled = await client.send(
        new ScheduleKeyDeletionCommand({ KeyId: KEY_ID, PendingWindowInDays: 7 }),
      );
      const disableWhilePending = await failure(client.send(new DisableKeyCommand({ KeyId: KEY_ID })));
      const decryptWhilePending = await failure(
        client.send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: Buffer.from('x') })),
      );
      const cancelled = await client.send(new CancelKeyDeletionCommand({ KeyId: KEY_ID }));
      const cancelAgain = await failure(client.send(new CancelKeyDeletionCommand({ KeyId: KEY_ID })));
      const described = await client.send(new DescribeKeyCommand({ KeyId: KEY_ID }));

      // Assess
      expect(scheduled).toMatchObject({
        KeyId: KEY_ARN,
        KeyState: 'PendingDeletion',
        PendingWindowInDays: 7,
        DeletionDate: new Date(emulator.clock.now().getTime() + 7 * DAY),
      });
      expect(disableWhilePending).toMatchObject({
        name: 'KMSInvalidStateException',
        message: `${KEY_ARN} is pending deletion.`,
      });
      expect(decryptWhilePending).toMatchObject({
        name: 'KMSInvalidStateException',
        message: `${KEY_ARN} is pending deletion.`,
      });
      expect(cancelled.KeyId).toBe(KEY_ARN);
      expect(cancelAgain).toMatchObject({
        name: 'KMSInvalidStateException',
        message: `${KEY_ARN} is not pending deletion.`,
      });
      expect(described.KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
      expect(described.KeyMetadata?.DeletionDate).toBeUndefined();
    });

    it('DisableKey and EnableKey are idempotent; a disabled key answers DisabledException', async () => {
      // Prepare
      const client = emulator.kms();

      // Act
      await client.send(new DisableKeyCommand({ KeyId: KEY_ID }));
      await client.send(new DisableKeyCommand({ KeyId: KEY_ARN }));
      const whileDisabled = await failure(
        client.send(new EncryptCommand({ KeyId: 'alias/legacy', Plaintext: Buffer.from('x') })),
      );
      await client.send(new EnableKeyCommand({ KeyId: KEY_ID }));
      await client.send(new EnableKeyCommand({ KeyId: KEY_ID }));

      // Assess
      expect(whileDisabled).toMatchObject({ name: 'DisabledException', message: `${KEY_ARN} is disabled.` });
      expect(emulator.account.inspectKey(KEY_ID)?.state).toBe('Enabled');
    });

    it.each([6, 31])(
      'ScheduleKeyDeletion with %i days -> ValidationException, key unchanged',
      async (days) => {
        // Act
        const error = await failure(
          emulator.kms().send(new ScheduleKeyDeletionCommand({ KeyId: KEY_ID, PendingWindowInDays: days })),
        );

        // Assess
        expect(error).toMatchObject({
          name: 'ValidationException',
          message: 'PendingWindowInDays must be between 7 and 30',
        });
        expect(emulator.account.inspectKey(KEY_ID)?.state).toBe('Enabled');
      },
    );

    it('a key whose DeletionDate passed is gone: NotFoundException, inspected as Deleted, alias gone', async () => {
      // Prepare
      await emulator.kms().send(new ScheduleKeyDeletionCommand({ KeyId: KEY_ID, PendingWindowInDays: 7 }));
      emulator.clock.advance(7 * DAY + 1);

      // Act
      const byId = await failure(emulator.kms().send(new DescribeKeyCommand({ KeyId: KEY_ID })));
      const byAlias = await failure(emulator.kms().send(new DescribeKeyCommand({ KeyId: 'alias/legacy' })));
      const listed = await emulator.kms().send(new ListKeysCommand({}));

      // Assess
      expect(byId).toMatchObject({ name: 'NotFoundException', message: `Key '${KEY_ARN}' does not exist` });
      expect(byAlias.name).toBe('NotFoundException');
      expect(emulator.account.inspectKey(KEY_ID)?.state).toBe('Deleted');
      expect(listed.Keys?.map((key) => key.KeyId)).toEqual([OTHER_KEY_ID]);
    });

    it('a multi-Region primary with replicas goes to PendingReplicaDeletion without a DeletionDate', async () => {
      // Prepare
      const mrk = 'mrk-1234abcd12ab34cd56ef1234567890ab';
      emulator.account.addKey({
        keyId: mrk,
        createdAt: new Date('2025-01-01T00:00:00Z'),
        multiRegion: { role: 'PRIMARY', replicaRegions: ['eu-west-1'] },
      });

      // Act
      const scheduled = await emulator
        .kms()
        .send(new ScheduleKeyDeletionCommand({ KeyId: mrk, PendingWindowInDays: 10 }));
      const described = await emulator.kms().send(new DescribeKeyCommand({ KeyId: mrk }));

      // Assess
      expect(scheduled.KeyState).toBe('PendingReplicaDeletion');
      expect(scheduled.DeletionDate).toBeUndefined();
      expect(described.KeyMetadata?.MultiRegionConfiguration?.ReplicaKeys?.[0]?.Region).toBe('eu-west-1');
      expect(described.KeyMetadata?.PendingDeletionWindowInDays).toBe(10);
    });

    it('an AWS managed key cannot be disabled (AccessDeniedException)', async () => {
      // Prepare
      const managed = '5555aaaa-12ab-34cd-56ef-1234567890ab';
      emulator.account.addKey({
        keyId: managed,
        createdAt: new Date('2023-01-01T00:00:00Z'),
        manager: 'AWS',
      });

      // Act
      const error = await failure(emulator.kms().send(new DisableKeyCommand({ KeyId: managed })));

      // Assess
      expect(error.name).toBe('AccessDeniedException');
      expect(emulator.account.inspectKey(managed)?.state).toBe('Enabled');
    });
  });

  describe('GetKeyLastUsage', () => {
    it('is empty for a key not used since tracking began and updates only on successful use', async () => {
      // Prepare
      const client = emulator.kms();
      const before = await client.send(new GetKeyLastUsageCommand({ KeyId: KEY_ID }));
      await client.send(new DisableKeyCommand({ KeyId: KEY_ID }));
      await failure(client.send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: Buffer.from('x') })));
      const afterFailure = await client.send(new GetKeyLastUsageCommand({ KeyId: KEY_ID }));
      await client.send(new EnableKeyCommand({ KeyId: KEY_ID }));
      emulator.clock.advance(DAY);

      // Act
      await client.send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: Buffer.from('x') }));
      await client.send(new DescribeKeyCommand({ KeyId: KEY_ID }));
      const afterSuccess = await client.send(new GetKeyLastUsageCommand({ KeyId: KEY_ID }));

      // Assess
      expect(before.KeyLastUsage).toEqual({});
      expect(before.TrackingStartDate).toEqual(new Date('2025-06-01T00:00:00Z'));
      expect(before.KeyCreationDate).toEqual(new Date('2024-01-01T00:00:00Z'));
      expect(afterFailure.KeyLastUsage).toEqual({});
      const encryptRecord = emulator.account
        .records()
        .find((r) => r.record.eventName === 'Encrypt' && !r.record.errorCode);
      expect(afterSuccess.KeyLastUsage).toEqual({
        Operation: 'Encrypt',
        Timestamp: emulator.clock.now(),
        CloudTrailEventId: encryptRecord?.record.eventID,
        KmsRequestId: encryptRecord?.record.requestID,
      });
    });

    it('ReEncrypt updates both keys; GetPublicKey counts as no use', async () => {
      // Prepare
      const client = emulator.kms();
      const encrypted = await client.send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: Buffer.from('x') }));
      emulator.clock.advance(60_000);
      const rsa = '7777aaaa-12ab-34cd-56ef-1234567890ab';
      emulator.account.addKey({
        keyId: rsa,
        createdAt: new Date('2025-01-01T00:00:00Z'),
        keySpec: 'RSA_2048',
        keyUsage: 'SIGN_VERIFY',
      });

      // Act
      await client.send(
        new ReEncryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, DestinationKeyId: OTHER_KEY_ARN }),
      );
      await client.send(new GetPublicKeyCommand({ KeyId: rsa }));
      const source = await client.send(new GetKeyLastUsageCommand({ KeyId: KEY_ID }));
      const destination = await client.send(new GetKeyLastUsageCommand({ KeyId: OTHER_KEY_ID }));
      const publicKeyOnly = await client.send(new GetKeyLastUsageCommand({ KeyId: rsa }));

      // Assess
      expect(source.KeyLastUsage).toMatchObject({ Operation: 'ReEncrypt', Timestamp: emulator.clock.now() });
      expect(destination.KeyLastUsage).toMatchObject({
        Operation: 'ReEncrypt',
        Timestamp: emulator.clock.now(),
      });
      expect(publicKeyOnly.KeyLastUsage).toEqual({});
      expect(emulator.account.records().some((r) => r.record.eventName === 'GetPublicKey')).toBe(true);
    });

    it('Decrypt without KeyId finds the key from the ciphertext; wrong key usage is InvalidKeyUsageException', async () => {
      // Prepare
      const client = emulator.kms();
      const encrypted = await client.send(
        new EncryptCommand({ KeyId: 'alias/legacy', Plaintext: Buffer.from('hi') }),
      );

      // Act
      const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
      const wrongUsage = await failure(
        client.send(
          new SignCommand({ KeyId: KEY_ID, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }),
        ),
      );

      // Assess
      expect(decrypted.KeyId).toBe(KEY_ARN);
      expect(Buffer.from(decrypted.Plaintext ?? new Uint8Array()).toString()).toBe('hi');
      expect(wrongUsage.name).toBe('InvalidKeyUsageException');
    });
  });

  describe('listing and tags', () => {
    it('ListAliases filters by key and pages with Marker/Truncated', async () => {
      // Prepare
      emulator.account.addKey({
        keyId: '2222bbbb-12ab-34cd-56ef-1234567890ab',
        createdAt: START_OF_2025,
        aliases: ['alias/a', 'alias/b', 'alias/c'],
      });
      const client = emulator.kms();

      // Act
      const forKey = await client.send(new ListAliasesCommand({ KeyId: KEY_ARN }));
      const first = await client.send(new ListAliasesCommand({ Limit: 2 }));
      const second = await client.send(new ListAliasesCommand({ Limit: 2, Marker: first.NextMarker }));
      const aliasFilter = await failure(client.send(new ListAliasesCommand({ KeyId: 'alias/legacy' })));

      // Assess
      expect(forKey.Aliases?.map((alias) => alias.AliasName)).toEqual(['alias/legacy']);
      expect(forKey.Aliases?.[0]).toMatchObject({
        AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/legacy`,
        TargetKeyId: KEY_ID,
      });
      expect(first).toMatchObject({ Truncated: true });
      expect(first.Aliases?.map((alias) => alias.AliasName)).toEqual(['alias/a', 'alias/b']);
      expect(second.Aliases?.map((alias) => alias.AliasName)).toEqual(['alias/c', 'alias/legacy']);
      expect(second.Truncated).toBe(false);
      expect(aliasFilter.name).toBe('InvalidArnException');
    });

    it('TagResource/UntagResource change what ListResourceTags shows', async () => {
      // Prepare
      const client = emulator.kms();

      // Act
      await client.send(
        new TagResourceCommand({
          KeyId: KEY_ID,
          Tags: [{ TagKey: 'kms-deletion-guard:status', TagValue: 'disabled' }],
        }),
      );
      await client.send(new UntagResourceCommand({ KeyId: KEY_ARN, TagKeys: ['team'] }));
      const tags = await client.send(new ListResourceTagsCommand({ KeyId: KEY_ID }));

      // Assess
      expect(tags.Tags).toEqual([{ TagKey: 'kms-deletion-guard:status', TagValue: 'disabled' }]);
      expect(tags.Truncated).toBe(false);
    });

    it('ListKeys pages with Limit/Marker', async () => {
      // Act
      const first = await emulator.kms().send(new ListKeysCommand({ Limit: 1 }));
      const second = await emulator.kms().send(new ListKeysCommand({ Limit: 1, Marker: first.NextMarker }));

      // Assess
      expect(first.Keys).toEqual([{ KeyId: KEY_ID, KeyArn: KEY_ARN }]);
      expect(first.Truncated).toBe(true);
      expect(second.Keys).toEqual([{ KeyId: OTHER_KEY_ID, KeyArn: OTHER_KEY_ARN }]);
      expect(second.Truncated).toBe(false);
    });
  });

  describe('application traffic (appCall)', () => {
    it('performs the call as the principal and answers like KMS', () => {
      // Prepare
      emulator.account.appCall({
        keyId: KEY_ID,
        operation: 'DisableKey',
        principalArn: `arn:aws:iam::${ACCOUNT}:role/admin`,
      });

      // Act
      const result = emulator.account.appCall({
        keyId: 'alias/legacy',
        operation: 'Decrypt',
        principalArn: APP_ROLE,
      });

      // Assess
      expect(result).toMatchObject({ ok: false, errorCode: 'DisabledException' });
    });

    it('a caller of another emulator.account reaches our key only by ARN', () => {
      // Act
      const byArn = emulator.account.appCall({
        keyId: KEY_ARN,
        operation: 'Decrypt',
        principalArn: 'arn:aws:iam::444455556666:role/partner',
      });
      const byAlias = emulator.account.appCall({
        keyId: 'alias/legacy',
        operation: 'Decrypt',
        principalArn: 'arn:aws:iam::444455556666:role/partner',
      });

      // Assess
      expect(byArn.ok).toBe(true);
      expect(byAlias).toMatchObject({ ok: false, errorCode: 'NotFoundException' });
      const logged = emulator.account.records().map((r) => r.record);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toMatchObject({
        recipientAccountId: ACCOUNT,
        userIdentity: { accountId: '444455556666' },
      });
    });
  });
});

const START_OF_2025 = new Date('2025-01-01T00:00:00Z');
