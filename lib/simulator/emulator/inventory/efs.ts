import { epochSeconds } from './json-service.js';
import { jsonAnswer, restJsonErrorAnswer, ServiceError } from './protocol.js';
import { decodeToken, encodeToken, InvalidTokenError, pageAfter } from './resources.js';
import { type InventoryServiceHandler, integerParameter } from './service.js';

/**
 * Amazon EFS (REST JSON, GET /2015-02-01/file-systems): `DescribeFileSystems`. Sourced behaviour
 * (EFS API reference):
 * - "you can optionally specify the MaxItems parameter to limit the number of descriptions in a
 *   response. This number is automatically set to 100. If more file system descriptions remain,
 *   Amazon EFS returns a NextMarker ... until the response has no NextMarker."
 * - `FileSystemId` that names nothing: `FileSystemNotFound` (404); errors carry `ErrorCode` and
 *   `Message` in the body.
 * - Each file system reports `Encrypted` and `KmsKeyId` (the key's ARN) and `FileSystemArn`.
 */

const PATH = /^\/2015-02-01\/file-systems\/?$/;
const DEFAULT_ITEMS = 100;

export const efsService: InventoryServiceHandler = {
  operationOf(request) {
    return request.method === 'GET' && PATH.test(request.path)
      ? 'DescribeFileSystems'
      : `${request.method} ${request.path}`;
  },

  serve(world, request) {
    const operation = this.operationOf(request);
    if (operation !== 'DescribeFileSystems') {
      throw new ServiceError('BadRequest', `The emulated EFS does not serve ${operation}.`);
    }
    const query = request.query;
    const maxItems = integerParameter(query.get('MaxItems') ?? undefined) ?? DEFAULT_ITEMS;
    if (Number.isNaN(maxItems) || maxItems < 1) {
      throw new ServiceError('BadRequest', 'MaxItems must be a positive integer.');
    }
    let systems = world.of('AWS::EFS::FileSystem', request.region);
    const id = query.get('FileSystemId');
    if (id) {
      systems = systems.filter((system) => system.id === id);
      if (systems.length === 0) {
        throw new ServiceError('FileSystemNotFound', `File system '${id}' does not exist.`, 404);
      }
    }
    const token = query.get('CreationToken');
    if (token) {
      systems = systems.filter((system) => system.id === token);
    }
    const marker = query.get('Marker');
    let after: string | undefined;
    try {
      after = marker ? decodeToken(operation, marker) : undefined;
    } catch (error) {
      if (error instanceof InvalidTokenError) {
        throw new ServiceError('BadRequest', 'The marker is not valid.');
      }
      throw error;
    }
    const page = pageAfter(systems, (system) => system.id, after, maxItems);
    return jsonAnswer(
      200,
      {
        ...(marker ? { Marker: marker } : {}),
        FileSystems: page.items.map((system) => ({
          OwnerId: world.account,
          // The scenario gives no creation token; the file system's ID stands in for it.
          CreationToken: system.id,
          FileSystemId: system.id,
          FileSystemArn: system.arn,
          CreationTime: epochSeconds(system.createdAt),
          LifeCycleState: 'available',
          NumberOfMountTargets: 0,
          SizeInBytes: { Value: 6144 },
          PerformanceMode: 'generalPurpose',
          Encrypted: true,
          KmsKeyId: system.key.arn,
          ThroughputMode: 'bursting',
          Tags: [],
        })),
        ...(page.after !== undefined ? { NextMarker: encodeToken(operation, page.after) } : {}),
      },
      'application/json',
      request.requestId,
    );
  },

  errorAnswer(error, request) {
    return restJsonErrorAnswer(error, request.requestId, { ErrorCode: error.code, Message: error.message });
  },
};
