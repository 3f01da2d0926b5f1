import {
  ListSecretsCommand,
  paginateListSecrets,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ACCOUNT, REGION } from './fixtures.js';
import { accountWith, DECOY, denyAll, inProcessClient, rejection, SUBJECT } from './inventory-fixtures.js';

const SECRETS = Array.from({ length: 7 }, (_, i) => `app/secret-${i}`);

function world() {
  return accountWith(
    SECRETS.map((id, i) => ({
      type: 'AWS::SecretsManager::Secret' as const,
      id,
      key: i === 3 ? SUBJECT : DECOY,
      createdAt: new Date(Date.UTC(2025, 0, 1 + i)),
    })),
  );
}

describe('emulated Secrets Manager ListSecrets', () => {
  it('pages every secret with its key ARN, ARN and creation date', async () => {
    // Prepare
    const secrets = inProcessClient(SecretsManagerClient, world());
    const seen: string[] = [];

    // Act
    for await (const page of paginateListSecrets({ client: secrets, pageSize: 3 }, { SortOrder: 'asc' })) {
      seen.push(...(page.SecretList ?? []).map((secret) => secret.Name ?? ''));
    }
    const answer = await secrets.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['app/secret-3'] }] }),
    );

    // Assess
    expect(seen).toEqual(SECRETS);
    expect(answer.SecretList).toHaveLength(1);
    expect(answer.SecretList?.[0]).toMatchObject({
      Name: 'app/secret-3',
      KmsKeyId: SUBJECT.arn,
      CreatedDate: new Date('2025-01-04T00:00:00Z'),
    });
    expect(answer.SecretList?.[0]?.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:app/secret-3-[A-Za-z0-9]{6}$`),
    );
  });

  it('refuses a page size over 100 and a token it did not issue', async () => {
    // Prepare
    const secrets = inProcessClient(SecretsManagerClient, world());

    // Act
    const large = await rejection(secrets.send(new ListSecretsCommand({ MaxResults: 101 })));
    const token = await rejection(secrets.send(new ListSecretsCommand({ NextToken: 'forged' })));

    // Assess
    expect(large.name).toBe('ValidationException');
    expect(token.name).toBe('InvalidNextTokenException');
  });

  it('answers a denied call with AccessDeniedException', async () => {
    // Prepare
    const account = world();
    denyAll(account, 'secretsmanager', 'AccessDenied');
    const secrets = inProcessClient(SecretsManagerClient, account);

    // Act
    const error = await rejection(secrets.send(new ListSecretsCommand({})));

    // Assess
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toContain('secretsmanager:ListSecrets');
  });
});
