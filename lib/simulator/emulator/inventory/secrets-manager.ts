import { AWS_JSON_1_1, epochSeconds, jsonBody, pageSize, positionOf } from './json-service.js';
import { awsJsonErrorAnswer, jsonAnswer, ServiceError } from './protocol.js';
import { encodeToken, type ProtectedResource } from './resources.js';
import type { InventoryServiceHandler } from './service.js';

/**
 * AWS Secrets Manager (AWS JSON 1.1, `secretsmanager.ListSecrets`). Sourced behaviour (Secrets
 * Manager API reference):
 * - `MaxResults` 1 to 100; "If there are more results available, in the response, Secrets Manager
 *   includes NextToken"; a token it did not issue is `InvalidNextTokenException`.
 * - `SortOrder` (`asc` | `desc`): "Secrets are listed by CreatedDate".
 * - `KmsKeyId`: "The ARN of the KMS key that Secrets Manager uses to encrypt the secret value. If
 *   the secret is encrypted with the Amazon Web Services managed key aws/secretsmanager, this field
 *   is omitted."
 * - Filters: keys `description`, `name`, `tag-key`, `tag-value`, `primary-region`,
 *   `owning-service`, `all`; a value matches as a prefix, and a value starting with `!` negates.
 */

const FILTER_KEYS = new Set([
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
]);

function filterValues(secret: ProtectedResource, key: string): readonly string[] {
  switch (key) {
    case 'name':
      return [secret.id];
    case 'primary-region':
      return [secret.region];
    case 'all':
      return [secret.id, secret.region];
    default:
      // No description, tags or owning service in the scenario format.
      return [];
  }
}

function matches(secret: ProtectedResource, filters: unknown): boolean {
  if (filters === undefined || filters === null) {
    return true;
  }
  if (!Array.isArray(filters)) {
    throw new ServiceError('SerializationException', 'Unexpected value for Filters');
  }
  return filters.every((raw: unknown) => {
    const filter = (raw ?? {}) as { Key?: unknown; Values?: unknown };
    const key = String(filter.Key);
    if (!FILTER_KEYS.has(key)) {
      throw new ServiceError(
        'ValidationException',
        `1 validation error detected: Value '${key}' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [${[...FILTER_KEYS].join(', ')}]`,
      );
    }
    const values = Array.isArray(filter.Values) ? filter.Values.map(String) : [];
    const own = filterValues(secret, key);
    return values.some((value) =>
      value.startsWith('!')
        ? !own.some((candidate) => candidate.startsWith(value.slice(1)))
        : own.some((candidate) => candidate.startsWith(value)),
    );
  });
}

export const secretsManagerService: InventoryServiceHandler = {
  operationOf(request) {
    const target = request.headers['x-amz-target'] ?? '';
    return target.slice(target.lastIndexOf('.') + 1);
  },

  serve(world, request) {
    const operation = this.operationOf(request);
    if (operation !== 'ListSecrets') {
      throw new ServiceError(
        'UnknownOperationException',
        `The emulated Secrets Manager does not serve ${operation}.`,
      );
    }
    const body = jsonBody(request.body);
    const limit = pageSize(body.MaxResults, 'maxResults', 100, 100);
    const order = body.SortOrder === 'asc' ? 1 : -1;
    const secrets = world
      .of('AWS::SecretsManager::Secret', request.region)
      .filter((secret) => matches(secret, body.Filters))
      .sort(
        (a, b) =>
          order * (a.createdAt.getTime() - b.createdAt.getTime()) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    const scope = `ListSecrets|${JSON.stringify(body.Filters ?? null)}|${order}`;
    const start = positionOf(
      scope,
      body.NextToken,
      () => new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.'),
    );
    const page = secrets.slice(start, start + limit);
    const more = start + limit < secrets.length;
    return jsonAnswer(
      200,
      {
        SecretList: page.map((secret) => ({
          ARN: secret.arn,
          Name: secret.id,
          KmsKeyId: secret.key.arn,
          LastChangedDate: epochSeconds(secret.createdAt),
          CreatedDate: epochSeconds(secret.createdAt),
          SecretVersionsToStages: {},
          Tags: [],
        })),
        ...(more ? { NextToken: encodeToken(scope, String(start + limit)) } : {}),
      },
      AWS_JSON_1_1,
      request.requestId,
    );
  },

  errorAnswer(error, request) {
    return awsJsonErrorAnswer(error, AWS_JSON_1_1, request.requestId);
  },
};
