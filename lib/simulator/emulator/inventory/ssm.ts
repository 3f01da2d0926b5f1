import { AWS_JSON_1_1, epochSeconds, jsonBody, pageSize, positionOf } from './json-service.js';
import { awsJsonErrorAnswer, jsonAnswer, ServiceError } from './protocol.js';
import { encodeToken, keyReference, type ProtectedResource } from './resources.js';
import type { InventoryServiceHandler } from './service.js';

/**
 * AWS Systems Manager Parameter Store (AWS JSON 1.1, `AmazonSSM.DescribeParameters`). Sourced
 * behaviour (SSM API reference):
 * - "Request results are returned on a best-effort basis. ... The number of items returned,
 *   however, can be between zero and the value of MaxResults. If the service reaches an internal
 *   limit while processing the results, it stops the operation and returns the matching values up
 *   to that point and a NextToken." The emulator examines `MaxResults` parameters per page and
 *   returns those the filters keep: a page can be empty while `NextToken` is present.
 * - `MaxResults` 1 to 50 (the validation text SSM answers for 51); a token it did not issue is
 *   `InvalidNextToken`.
 * - `KeyId`: "The alias of the KMS key used to encrypt the parameter", i.e. the reference the
 *   parameter was written with (key ID, key ARN, alias name or alias ARN: see `keyReference`);
 *   `ParameterFilters` `KeyId` compares with that text, so a filter by key ARN misses a parameter
 *   written with an alias ("If you change the KMS key alias for the KMS key used to encrypt a
 *   parameter, then you must also update the key alias the parameter uses").
 * - ARN `arn:aws:ssm:<region>:<account>:parameter/<name without its leading slash>`.
 */

const DEFAULT_PAGE = 10;

interface ParameterFilter {
  readonly key: string;
  readonly option: string;
  readonly values: readonly string[];
}

function filtersOf(body: Record<string, unknown>): ParameterFilter[] {
  const filters: ParameterFilter[] = [];
  for (const raw of Array.isArray(body.ParameterFilters) ? body.ParameterFilters : []) {
    const filter = (raw ?? {}) as { Key?: unknown; Option?: unknown; Values?: unknown };
    filters.push({
      key: String(filter.Key),
      option: typeof filter.Option === 'string' ? filter.Option : 'Equals',
      values: Array.isArray(filter.Values) ? filter.Values.map(String) : [],
    });
  }
  // The older `Filters` (Name, Type, KeyId) compare for equality.
  for (const raw of Array.isArray(body.Filters) ? body.Filters : []) {
    const filter = (raw ?? {}) as { Key?: unknown; Values?: unknown };
    filters.push({
      key: String(filter.Key),
      option: 'Equals',
      values: Array.isArray(filter.Values) ? filter.Values.map(String) : [],
    });
  }
  return filters;
}

function keep(parameter: ProtectedResource, keyId: string, filter: ParameterFilter): boolean {
  const name = parameter.id;
  switch (filter.key) {
    case 'Name':
      return filter.values.some((value) =>
        filter.option === 'BeginsWith' ? name.startsWith(value) : name === value,
      );
    case 'Type':
      return filter.values.includes('SecureString');
    case 'KeyId':
      return filter.values.includes(keyId);
    case 'Tier':
      return filter.values.includes('Standard');
    case 'DataType':
      return filter.values.includes('text');
    case 'Path': {
      return filter.values.some((value) => {
        const path = value.endsWith('/') ? value : `${value}/`;
        if (!name.startsWith(path)) return false;
        return filter.option === 'Recursive' || !name.slice(path.length).includes('/');
      });
    }
    default:
      if (filter.key.startsWith('tag:') || filter.key === 'Label') {
        return false;
      }
      throw new ServiceError('InvalidFilterKey', `The filter key ${filter.key} is not valid.`);
  }
}

export const ssmService: InventoryServiceHandler = {
  operationOf(request) {
    const target = request.headers['x-amz-target'] ?? '';
    return target.slice(target.lastIndexOf('.') + 1);
  },

  serve(world, request) {
    const operation = this.operationOf(request);
    if (operation !== 'DescribeParameters') {
      throw new ServiceError('UnknownOperationException', `The emulated SSM does not serve ${operation}.`);
    }
    const body = jsonBody(request.body);
    const limit = pageSize(body.MaxResults, 'maxResults', 50, DEFAULT_PAGE);
    const filters = filtersOf(body);
    const parameters = world.of('AWS::SSM::Parameter', request.region);
    const scope = `DescribeParameters|${JSON.stringify(filters)}`;
    const start = positionOf(
      scope,
      body.NextToken,
      () => new ServiceError('InvalidNextToken', 'The specified token is not valid.'),
    );
    const examined = parameters.slice(start, start + limit);
    const kept = examined
      .map((parameter) => ({
        parameter,
        keyId: keyReference(parameter, ['keyArn', 'keyId', 'aliasName', 'aliasArn']),
      }))
      .filter(({ parameter, keyId }) => filters.every((filter) => keep(parameter, keyId, filter)));
    const more = start + limit < parameters.length;
    return jsonAnswer(
      200,
      {
        Parameters: kept.map(({ parameter, keyId }) => ({
          Name: parameter.id,
          ARN: parameter.arn,
          Type: 'SecureString',
          KeyId: keyId,
          LastModifiedDate: epochSeconds(parameter.createdAt),
          Version: 1,
          Tier: 'Standard',
          Policies: [],
          DataType: 'text',
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
