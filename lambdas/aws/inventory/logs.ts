import { type CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { EncryptedResource } from '../../domain/inventory.js';
import { allPages, encrypted, isoDate, type Scope } from './read.js';

/**
 * Log groups (DescribeLogGroups) encrypted with a KMS key (`kmsKeyId`, the key's ARN). The group's
 * ARN is given without the `:*` that the `arn` field appends; both name the same group.
 */
export async function readLogGroups(logs: CloudWatchLogsClient, scope: Scope): Promise<EncryptedResource[]> {
  const groups = await allPages('logs', 'DescribeLogGroups', async (nextToken) => {
    const page = await logs.send(new DescribeLogGroupsCommand({ limit: 50, nextToken }));
    return { items: page.logGroups, next: page.nextToken };
  });
  return groups.flatMap((group) => {
    const arn =
      group.logGroupArn ??
      group.arn?.replace(/:\*$/, '') ??
      `arn:${scope.partition}:logs:${scope.region}:${scope.account}:log-group:${group.logGroupName ?? '(no name)'}`;
    return encrypted('AWS::Logs::LogGroup', group.kmsKeyId, arn, isoDate(group.creationTime), [`${arn}:*`]);
  });
}
