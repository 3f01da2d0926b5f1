import { DisableKeyCommand } from '@aws-sdk/client-kms';
import { kmsClient } from './clients.js';

/** DisableKey. On a Disabled key it succeeds, so a retry and a key that was already Disabled take the same path. */
export async function disableKey(keyArn: string, region: string): Promise<void> {
  await kmsClient(region).send(new DisableKeyCommand({ KeyId: keyArn }));
}
