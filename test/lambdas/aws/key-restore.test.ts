import { CancelKeyDeletionCommand, KMSClient, KMSInvalidStateException } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { cancelKeyDeletion } from '../../../lambdas/aws/key-restore.js';
import { keyArnIn } from '../fixtures.js';

const kms = mockClient(KMSClient);
const KEY_ARN = keyArnIn('us-east-1');

afterEach(() => {
  kms.reset();
});

describe('cancelKeyDeletion', () => {
  it('answers CANCELLED when KMS cancelled the deletion', async () => {
    // Prepare
    kms.on(CancelKeyDeletionCommand).resolves({ KeyId: KEY_ARN });

    // Act
    const answer = await cancelKeyDeletion(KEY_ARN, 'us-east-1');

    // Assess
    expect(answer).toBe('CANCELLED');
    expect(kms.commandCalls(CancelKeyDeletionCommand)[0]?.args[0].input).toEqual({ KeyId: KEY_ARN });
  });

  it('answers NOT_PENDING when someone cancelled it first', async () => {
    // Prepare
    kms
      .on(CancelKeyDeletionCommand)
      .rejects(
        new KMSInvalidStateException({ message: `${KEY_ARN} is not pending deletion.`, $metadata: {} }),
      );

    // Act
    const answer = await cancelKeyDeletion(KEY_ARN, 'us-east-1');

    // Assess
    expect(answer).toBe('NOT_PENDING');
  });

  it('lets any other invalid state through', async () => {
    // Prepare
    kms
      .on(CancelKeyDeletionCommand)
      .rejects(new KMSInvalidStateException({ message: `${KEY_ARN} is pending import.`, $metadata: {} }));

    // Act
    const answer = cancelKeyDeletion(KEY_ARN, 'us-east-1');

    // Assess
    await expect(answer).rejects.toMatchObject({ name: 'KMSInvalidStateException' });
  });
});
