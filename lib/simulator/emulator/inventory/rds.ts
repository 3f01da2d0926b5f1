import { createHash } from 'node:crypto';
import { queryErrorAnswer, ServiceError, type XmlElements, XmlList, xmlAnswer } from './protocol.js';
import {
  decodeToken,
  encodeToken,
  InvalidTokenError,
  type InventoryWorld,
  type ProtectedResource,
  pageAfter,
  type ResourceType,
} from './resources.js';
import { type InventoryRequest, type InventoryServiceHandler, integerParameter } from './service.js';

/**
 * Amazon RDS (Query protocol, version 2014-10-31): the four `Describe*` listings of instances,
 * clusters and their snapshots. Sourced behaviour (RDS API reference):
 * - `MaxRecords`: "Default: 100. Constraints: Minimum 20, maximum 100."; outside that,
 *   `InvalidParameterValue` "Invalid value 10 for MaxRecords. Must be between 20 and 100" (the text
 *   RDS answers, quoted in steampipe's aws plugin); `Marker` continues a listing.
 * - An identifier that names nothing: `DBInstanceNotFound`, `DBClusterNotFoundFault`,
 *   `DBSnapshotNotFound`, `DBClusterSnapshotNotFoundFault` (404).
 * - `DescribeDBSnapshots` / `DescribeDBClusterSnapshots` without `SnapshotType` list the automated
 *   and manual snapshots (not shared or public ones); automated ones are named `rds:<db>-<date>`.
 * - Filters: the names each action documents (`db-instance-id`, `engine`, ...).
 */

const NAMESPACE = 'http://rds.amazonaws.com/doc/2014-10-31/';

interface RdsListing {
  readonly type: ResourceType;
  readonly list: string;
  readonly member: string;
  readonly identifier: string;
  readonly notFound: { readonly code: string; readonly noun: string };
  readonly filters: Readonly<Record<string, (item: ProtectedResource) => string>>;
  readonly xml: (item: ProtectedResource) => XmlElements;
}

function resourceId(prefix: string, item: ProtectedResource): string {
  const digest = createHash('sha256').update(item.arn).digest('base64');
  return `${prefix}${digest
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()
    .slice(0, 26)}`;
}

/** `rds:mydb-2026-01-01-00-00` was taken of `mydb`; a manual snapshot keeps its source's name out of its own. */
function sourceOf(snapshotId: string): string {
  return snapshotId.replace(/^rds:/, '').replace(/-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}$/, '');
}

function snapshotType(item: ProtectedResource): string {
  return item.id.startsWith('rds:') ? 'automated' : 'manual';
}

const INSTANCES: RdsListing = {
  type: 'AWS::RDS::DBInstance',
  list: 'DBInstances',
  member: 'DBInstance',
  identifier: 'DBInstanceIdentifier',
  notFound: { code: 'DBInstanceNotFound', noun: 'DBInstance' },
  filters: {
    'db-instance-id': (item) => item.id,
    'dbi-resource-id': (item) => resourceId('db-', item),
    engine: () => 'postgres',
  },
  xml: (item) => ({
    DBInstanceIdentifier: item.id,
    DBInstanceClass: 'db.t4g.micro',
    Engine: 'postgres',
    DBInstanceStatus: 'available',
    AllocatedStorage: 20,
    InstanceCreateTime: item.createdAt,
    AvailabilityZone: `${item.region}a`,
    MultiAZ: false,
    StorageType: 'gp3',
    StorageEncrypted: true,
    KmsKeyId: item.key.arn,
    DbiResourceId: resourceId('db-', item),
    DBInstanceArn: item.arn,
  }),
};

const CLUSTERS: RdsListing = {
  type: 'AWS::RDS::DBCluster',
  list: 'DBClusters',
  member: 'DBCluster',
  identifier: 'DBClusterIdentifier',
  notFound: { code: 'DBClusterNotFoundFault', noun: 'DBCluster' },
  filters: {
    'db-cluster-id': (item) => item.id,
    'db-cluster-resource-id': (item) => resourceId('cluster-', item),
    engine: () => 'aurora-postgresql',
  },
  xml: (item) => ({
    DBClusterIdentifier: item.id,
    Engine: 'aurora-postgresql',
    Status: 'available',
    MultiAZ: false,
    ClusterCreateTime: item.createdAt,
    StorageEncrypted: true,
    KmsKeyId: item.key.arn,
    DbClusterResourceId: resourceId('cluster-', item),
    DBClusterArn: item.arn,
  }),
};

const SNAPSHOTS: RdsListing = {
  type: 'AWS::RDS::DBSnapshot',
  list: 'DBSnapshots',
  member: 'DBSnapshot',
  identifier: 'DBSnapshotIdentifier',
  notFound: { code: 'DBSnapshotNotFound', noun: 'DBSnapshot' },
  filters: {
    'db-instance-id': (item) => sourceOf(item.id),
    'db-snapshot-id': (item) => item.id,
    'snapshot-type': snapshotType,
    engine: () => 'postgres',
  },
  xml: (item) => ({
    DBSnapshotIdentifier: item.id,
    DBInstanceIdentifier: sourceOf(item.id),
    SnapshotCreateTime: item.createdAt,
    Engine: 'postgres',
    AllocatedStorage: 20,
    Status: 'available',
    SnapshotType: snapshotType(item),
    Encrypted: true,
    KmsKeyId: item.key.arn,
    DBSnapshotArn: item.arn,
    StorageType: 'gp3',
  }),
};

const CLUSTER_SNAPSHOTS: RdsListing = {
  type: 'AWS::RDS::DBClusterSnapshot',
  list: 'DBClusterSnapshots',
  member: 'DBClusterSnapshot',
  identifier: 'DBClusterSnapshotIdentifier',
  notFound: { code: 'DBClusterSnapshotNotFoundFault', noun: 'DBClusterSnapshot' },
  filters: {
    'db-cluster-id': (item) => sourceOf(item.id),
    'db-cluster-snapshot-id': (item) => item.id,
    'snapshot-type': snapshotType,
    engine: () => 'aurora-postgresql',
  },
  xml: (item) => ({
    DBClusterSnapshotIdentifier: item.id,
    DBClusterIdentifier: sourceOf(item.id),
    SnapshotCreateTime: item.createdAt,
    Engine: 'aurora-postgresql',
    Status: 'available',
    SnapshotType: snapshotType(item),
    StorageEncrypted: true,
    KmsKeyId: item.key.arn,
    DBClusterSnapshotArn: item.arn,
  }),
};

const LISTINGS: Readonly<Record<string, RdsListing>> = {
  DescribeDBInstances: INSTANCES,
  DescribeDBClusters: CLUSTERS,
  DescribeDBSnapshots: SNAPSHOTS,
  DescribeDBClusterSnapshots: CLUSTER_SNAPSHOTS,
};

/** `Filters.Filter.1.Name=engine&Filters.Filter.1.Values.Value.1=postgres`. */
function filtersOf(params: URLSearchParams): { name: string; values: string[] }[] {
  const filters = new Map<number, { name: string; values: string[] }>();
  for (const [name, value] of params) {
    const match = /^Filters\.Filter\.(\d+)\.(Name|Values\.Value\.\d+)$/.exec(name);
    if (!match) continue;
    const index = Number(match[1]);
    const filter = filters.get(index) ?? { name: '', values: [] };
    if (match[2] === 'Name') {
      filter.name = value;
    } else {
      filter.values.push(value);
    }
    filters.set(index, filter);
  }
  return [...filters.values()];
}

function describe(
  listing: RdsListing,
  action: string,
  params: URLSearchParams,
  world: InventoryWorld,
  request: InventoryRequest,
) {
  const maxRecords = integerParameter(params.get('MaxRecords') ?? undefined) ?? 100;
  if (Number.isNaN(maxRecords) || maxRecords < 20 || maxRecords > 100) {
    throw new ServiceError(
      'InvalidParameterValue',
      `Invalid value ${params.get('MaxRecords')} for MaxRecords. Must be between 20 and 100`,
    );
  }
  let items = world.of(listing.type, request.region);
  const identifier = params.get(listing.identifier);
  if (identifier !== null && identifier !== '') {
    // "This parameter isn't case-sensitive"; an ARN names the resource too.
    const wanted = identifier.toLowerCase();
    items = items.filter((item) => item.id === wanted || item.arn.toLowerCase() === wanted);
    if (items.length === 0) {
      throw new ServiceError(listing.notFound.code, `${listing.notFound.noun} ${identifier} not found.`, 404);
    }
  }
  if (listing === SNAPSHOTS || listing === CLUSTER_SNAPSHOTS) {
    const source = params.get(listing === SNAPSHOTS ? 'DBInstanceIdentifier' : 'DBClusterIdentifier');
    if (source) {
      items = items.filter((item) => sourceOf(item.id) === source.toLowerCase());
    }
    const type = params.get('SnapshotType');
    items = items.filter((item) =>
      type ? snapshotType(item) === type : ['automated', 'manual'].includes(snapshotType(item)),
    );
  }
  for (const filter of filtersOf(params)) {
    const filterValue = listing.filters[filter.name];
    if (!filterValue) {
      throw new ServiceError('InvalidParameterValue', `Unrecognized filter name: ${filter.name}`);
    }
    items = items.filter((item) => filter.values.includes(filterValue(item)));
  }
  const marker = params.get('Marker');
  let after: string | undefined;
  try {
    after = marker ? decodeToken(action, marker) : undefined;
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      throw new ServiceError('InvalidParameterValue', `The marker ${marker} is not valid.`);
    }
    throw error;
  }
  const page = pageAfter(items, (item) => item.id, after, maxRecords);
  return xmlAnswer(
    200,
    `${action}Response`,
    {
      [`${action}Result`]: {
        ...(page.after !== undefined ? { Marker: encodeToken(action, page.after) } : {}),
        [listing.list]: new XmlList(listing.member, page.items.map(listing.xml)),
      },
      ResponseMetadata: { RequestId: request.requestId },
    },
    NAMESPACE,
    request.requestId,
  );
}

export const rdsService: InventoryServiceHandler = {
  operationOf(request) {
    return new URLSearchParams(request.body).get('Action') ?? '';
  },

  serve(world, request) {
    const params = new URLSearchParams(request.body);
    const action = params.get('Action') ?? '';
    const listing = LISTINGS[action];
    if (!listing) {
      throw new ServiceError('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
    return describe(listing, action, params, world, request);
  },

  errorAnswer(error, request) {
    return queryErrorAnswer(error, NAMESPACE, request.requestId);
  },
};
