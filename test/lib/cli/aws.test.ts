import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AwsClients, withClients } from '../../../lib/cli/aws.js';

describe('AwsClients', () => {
  it('makes one client per service and Region, with the retries the CLI relies on', async () => {
    // Prepare
    const clients = new AwsClients({});

    // Act
    const kms = clients.kms('eu-west-1');
    const again = clients.kms('eu-west-1');
    const other = clients.kms('us-east-1');
    const sfn = clients.sfn('eu-west-1');

    // Assess
    try {
      expect(again).toBe(kms);
      expect(other).not.toBe(kms);
      expect(kms).toBeInstanceOf(KMSClient);
      expect(sfn).toBeInstanceOf(SFNClient);
      expect(await other.config.region()).toBe('us-east-1');
      expect(await kms.config.maxAttempts()).toBe(8);
    } finally {
      clients.destroy();
    }
  });

  it('destroys every client it made when the command ends, also by an error', async () => {
    // Prepare
    const made: { destroy(): void }[] = [];

    // Act
    const run = withClients({}, async (clients) => {
      made.push(clients.kms('eu-west-1'), clients.cloudTrail('eu-west-1'));
      for (const client of made) vi.spyOn(client, 'destroy');
      throw new Error('the command failed');
    });

    // Assess
    await expect(run).rejects.toThrow('the command failed');
    for (const client of made) expect(client.destroy).toHaveBeenCalledTimes(1);
  });
});
