import { DescribeParametersCommand, paginateDescribeParameters, SSMClient } from '@aws-sdk/client-ssm';
import { ACCOUNT, REGION } from './fixtures.js';
import {
  accountWith,
  DECOY,
  denyAll,
  inProcessClient,
  rejection,
  SUBJECT,
  SUBJECT_ALIAS_ARN,
} from './inventory-fixtures.js';

const PARAMETERS = Array.from({ length: 12 }, (_, i) => `/app/param-${String(i).padStart(2, '0')}`);

function world() {
  return accountWith(
    PARAMETERS.map((id, i) => ({ type: 'AWS::SSM::Parameter' as const, id, key: i >= 8 ? SUBJECT : DECOY })),
  );
}

describe('emulated SSM DescribeParameters', () => {
  it('pages every SecureString parameter with its key as written, its ARN and date', async () => {
    // Prepare
    const ssm = inProcessClient(SSMClient, world());
    const seen: { name: string; keyId: string }[] = [];

    // Act
    for await (const page of paginateDescribeParameters({ client: ssm, pageSize: 5 }, {})) {
      seen.push(...(page.Parameters ?? []).map((p) => ({ name: p.Name ?? '', keyId: p.KeyId ?? '' })));
    }
    const first = await ssm.send(new DescribeParametersCommand({ MaxResults: 1 }));

    // Assess
    expect(seen.map((p) => p.name)).toEqual(PARAMETERS);
    expect(
      seen
        .slice(8)
        .every((p) => [SUBJECT.arn, SUBJECT.keyId, 'alias/legacy', SUBJECT_ALIAS_ARN].includes(p.keyId)),
    ).toBe(true);
    expect(new Set(seen.slice(8).map((p) => p.keyId)).size).toBeGreaterThan(1);
    expect(first.Parameters?.[0]).toMatchObject({
      Name: '/app/param-00',
      ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/app/param-00`,
      Type: 'SecureString',
      LastModifiedDate: new Date('2025-03-01T12:00:00Z'),
    });
  });

  it('may answer an empty page with a NextToken, as SSM documents, when a filter keeps nothing of it', async () => {
    // Prepare
    const ssm = inProcessClient(SSMClient, world());
    const filters = [{ Key: 'Name', Option: 'BeginsWith', Values: ['/app/param-1'] }];

    // Act
    const first = await ssm.send(new DescribeParametersCommand({ ParameterFilters: filters, MaxResults: 5 }));
    const seen: string[] = [];
    for await (const page of paginateDescribeParameters(
      { client: ssm, pageSize: 5 },
      { ParameterFilters: filters },
    )) {
      seen.push(...(page.Parameters ?? []).map((p) => p.Name ?? ''));
    }

    // Assess
    expect(first.Parameters).toEqual([]);
    expect(first.NextToken).toBeDefined();
    expect(seen).toEqual(['/app/param-10', '/app/param-11']);
  });

  it('refuses a page size over 50, and answers a denied call with AccessDeniedException', async () => {
    // Prepare
    const account = world();
    const ssm = inProcessClient(SSMClient, account);

    // Act
    const large = await rejection(ssm.send(new DescribeParametersCommand({ MaxResults: 51 })));
    denyAll(account, 'ssm', 'UnauthorizedOperation');
    const denied = await rejection(ssm.send(new DescribeParametersCommand({})));

    // Assess
    expect([large.name, large.message]).toEqual([
      'ValidationException',
      "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
    ]);
    expect(denied.name).toBe('AccessDeniedException');
  });
});
