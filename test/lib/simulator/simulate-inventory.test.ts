import type { EmulatedAccount } from '../../../lib/simulator/emulator/account.js';
import { ScenarioError } from '../../../lib/simulator/scenario.js';
import { simulate } from '../../../lib/simulator/simulate.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
const EU_KEY_ID = 'mrk-0123456789abcdef0123456789abcdef';
const ACCOUNT = '111122223333';

function scenario(
  extra: Record<string, unknown> = {},
  cloudTrail: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: 'what the keys protect',
    start: '2026-01-01T00:00:00Z',
    keys: [
      {
        keyId: KEY_ID,
        createdAt: '2024-01-01T00:00:00Z',
        aliases: ['alias/legacy'],
        protects: [
          { type: 'AWS::EC2::Snapshot', id: 'snap-0123456789abcdef0', createdAt: '2025-01-01T00:00:00Z' },
          {
            type: 'AWS::SecretsManager::Secret',
            id: 'prod/db',
            arn: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/db-AbCdEf`,
          },
        ],
        grants: [{ granteePrincipal: `arn:aws:iam::${ACCOUNT}:role/app`, operations: ['Decrypt'] }],
      },
      {
        keyId: OTHER_KEY_ID,
        createdAt: '2024-06-01T00:00:00Z',
        protects: [{ type: 'AWS::DynamoDB::Table', id: 'orders' }],
      },
      {
        keyId: EU_KEY_ID,
        createdAt: '2024-06-01T00:00:00Z',
        region: 'eu-west-1',
        protects: [{ type: 'AWS::S3::Bucket', id: 'eu-archive' }],
      },
    ],
    input: { keyId: KEY_ID, observationDays: 3 },
    config: { watchPendingWindow: false, pendingWindowInDays: 7 },
    cloudTrail,
    ...extra,
  };
}

describe('simulate: the data at rest under the scenario’s keys', () => {
  it('puts each protected resource in its key’s Region, with the ARN the service forms', async () => {
    // Prepare
    let inventory: ReturnType<EmulatedAccount['inventory']['all']> = [];

    // Act
    await simulate(scenario(), {
      inspect: (account) => {
        inventory = account.inventory.all();
      },
    });

    // Assess
    expect(
      inventory.map((resource) => [resource.type, resource.arn, resource.region, resource.key.keyId]),
    ).toEqual([
      ['AWS::EC2::Snapshot', 'arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0', 'us-east-1', KEY_ID],
      [
        'AWS::SecretsManager::Secret',
        `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prod/db-AbCdEf`,
        'us-east-1',
        KEY_ID,
      ],
      [
        'AWS::DynamoDB::Table',
        `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders`,
        'us-east-1',
        OTHER_KEY_ID,
      ],
      ['AWS::S3::Bucket', 'arn:aws:s3:::eu-archive', 'eu-west-1', EU_KEY_ID],
    ]);
    expect(inventory[0]?.createdAt).toEqual(new Date('2025-01-01T00:00:00Z'));
    expect(inventory[2]?.createdAt).toEqual(new Date('2024-06-01T00:00:00Z'));
    expect(inventory[0]?.key).toEqual({
      keyId: KEY_ID,
      arn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${KEY_ID}`,
      aliases: ['alias/legacy'],
    });
  });

  it('stores nothing in the CloudTrail log group once the key encrypting it is disabled', async () => {
    // Prepare
    let stored = -1;
    let delivered = 0;

    // Act: the workflow disables the key that encrypts the group its own watch reads.
    await simulate(scenario({}, { logGroupKmsKeyId: 'alias/legacy' }), {
      inspect: (account) => {
        const disabled = account
          .records()
          .find((emitted) => emitted.workflow && emitted.record.eventName === 'DisableKey');
        const after = (disabled?.at ?? 0) + 1;
        delivered = account
          .records()
          .filter((emitted) => emitted.visibleAt !== null && emitted.at >= after).length;
        stored = account.logEventsInWindow(after, Date.now());
      },
    });

    // Assess
    expect(delivered).toBeGreaterThan(0);
    expect(stored).toBe(0);
  });

  it('refuses a log group key that names no key, and two keys for the CloudTrail group', async () => {
    // Act
    const unknown = simulate(scenario({}, { logGroupKmsKeyId: 'alias/nope' }));
    const twoKeys = simulate(
      scenario(
        {
          keys: [
            {
              keyId: KEY_ID,
              createdAt: '2024-01-01T00:00:00Z',
              protects: [{ type: 'AWS::Logs::LogGroup', id: 'aws-cloudtrail-logs' }],
            },
            { keyId: OTHER_KEY_ID, createdAt: '2024-06-01T00:00:00Z' },
          ],
        },
        { logGroupKmsKeyId: OTHER_KEY_ID },
      ),
    );

    // Assess
    await expect(unknown).rejects.toThrow(
      new ScenarioError("cloudTrail.logGroupKmsKeyId: 'alias/nope' names no key of the scenario"),
    );
    await expect(twoKeys).rejects.toThrow(
      /^cloudTrail\.logGroupKmsKeyId: The log group is already encrypted under/,
    );
  });
});
