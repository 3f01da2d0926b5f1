import { DescribeParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, encrypted, type Scope } from './read.js';

/**
 * SecureString parameters (DescribeParameters) and the key that encrypts each (`KeyId`, the AWS
 * managed `alias/aws/ssm` unless one was chosen). Parameter Store records no creation time.
 */
export async function readSecureStrings(ssm: SSMClient, scope: Scope): Promise<EncryptedResource[]> {
  const parameters = await allPages('ssm', 'DescribeParameters', async (NextToken) => {
    const page = await ssm.send(new DescribeParametersCommand({ MaxResults: 50, NextToken }));
    return { items: page.Parameters, next: page.NextToken };
  });
  return parameters
    .filter((parameter) => parameter.Type === 'SecureString')
    .flatMap((parameter) =>
      encrypted(
        'AWS::SSM::Parameter',
        parameter.KeyId,
        parameter.ARN ??
          `arn:${scope.partition}:ssm:${scope.region}:${scope.account}:parameter/${(parameter.Name ?? '').replace(/^\//, '')}`,
        null,
      ),
    );
}
