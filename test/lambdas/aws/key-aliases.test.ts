import { KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { listAliases } from '../../../lambdas/aws/key-aliases.js';
import { KEY_ID } from '../fixtures.js';

const kms = mockClient(KMSClient);

afterEach(() => {
  kms.reset();
});

describe('listAliases', () => {
  it("reads every page of a key's aliases", async () => {
    // Prepare
    kms
      .on(ListAliasesCommand)
      .resolvesOnce({ Aliases: [{ AliasName: 'alias/old' }], Truncated: true, NextMarker: 'm1' })
      .resolves({ Aliases: [{ AliasName: 'alias/legacy' }], Truncated: false });

    // Act
    const aliases = await listAliases(new KMSClient({ region: 'us-east-1' }), { keyId: KEY_ID });

    // Assess
    expect(aliases.map((a) => a.AliasName)).toEqual(['alias/old', 'alias/legacy']);
    expect(kms.commandCalls(ListAliasesCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ID, Limit: undefined, Marker: undefined },
      { KeyId: KEY_ID, Limit: undefined, Marker: 'm1' },
    ]);
  });

  it('lists the whole Region with the page size asked for when no key is named', async () => {
    // Prepare
    kms.on(ListAliasesCommand).resolves({ Aliases: [{ AliasName: 'alias/a', TargetKeyId: KEY_ID }] });

    // Act
    const aliases = await listAliases(new KMSClient({ region: 'us-east-1' }), { pageSize: 100 });

    // Assess
    expect(aliases).toEqual([{ AliasName: 'alias/a', TargetKeyId: KEY_ID }]);
    expect(kms.commandCalls(ListAliasesCommand)[0]?.args[0].input).toEqual({
      KeyId: undefined,
      Limit: 100,
      Marker: undefined,
    });
  });
});
