import { ec2ErrorAnswer, ServiceError, type XmlElements, XmlList, xmlAnswer } from './protocol.js';
import {
  decodeToken,
  encodeToken,
  InvalidTokenError,
  type InventoryWorld,
  type ProtectedResource,
  pageAfter,
} from './resources.js';
import { type InventoryRequest, type InventoryServiceHandler, integerParameter } from './service.js';

/**
 * Amazon EC2 (Query protocol, version 2016-11-15): `DescribeVolumes` and `DescribeSnapshots` of the
 * account's encrypted EBS volumes and snapshots. Sourced behaviour (EC2 API reference and the EC2
 * model's documentation of these two operations):
 * - `MaxResults` is 5 to 500 for volumes and 5 to 1,000 for snapshots; a larger value returns that
 *   many, a smaller one is `InvalidParameterValue` ("Value ( 3 ) for parameter maxResults is invalid.
 *   Expecting a value greater than 5.", as EC2 answered in a recorded call); without it every item
 *   comes back in one answer; it cannot be combined with IDs (`InvalidParameterCombination`, "The
 *   parameter volumeSet cannot be used with the parameter maxResults").
 * - `Filter.N` values are ORed, filters ANDed, values may use `*` and `?`; a filter name the action
 *   does not document is `InvalidParameterValue` "The filter '<name>' is invalid".
 * - Without `Owner.N`, snapshots you can restore are listed, yours among them; `self` or the
 *   account ID names yours. The emulated account holds only its own.
 */

const NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

const VOLUME_FILTERS = new Set([
  'attachment.attach-time',
  'attachment.delete-on-termination',
  'attachment.device',
  'attachment.instance-id',
  'attachment.status',
  'availability-zone',
  'availability-zone-id',
  'create-time',
  'encrypted',
  'fast-restored',
  'multi-attach-enabled',
  'operator.managed',
  'operator.principal',
  'size',
  'snapshot-id',
  'status',
  'tag-key',
  'volume-id',
  'volume-type',
]);

const SNAPSHOT_FILTERS = new Set([
  'description',
  'encrypted',
  'owner-alias',
  'owner-id',
  'progress',
  'snapshot-id',
  'start-time',
  'status',
  'storage-tier',
  'transfer-type',
  'tag-key',
  'volume-id',
  'volume-size',
]);

/** The size the emulator gives every volume and snapshot: the format has no size. */
const SIZE_GIB = 8;

interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

/** `Filter.1.Name=encrypted&Filter.1.Value.1=true`. */
function filtersOf(params: URLSearchParams): Filter[] {
  const filters = new Map<number, { name?: string; values: string[] }>();
  for (const [name, value] of params) {
    const match = /^Filter\.(\d+)\.(Name|Value\.(\d+))$/.exec(name);
    if (!match) continue;
    const index = Number(match[1]);
    const filter = filters.get(index) ?? { values: [] };
    if (match[2] === 'Name') {
      filter.name = value;
    } else {
      filter.values.push(value);
    }
    filters.set(index, filter);
  }
  return [...filters.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, filter]) => ({ name: filter.name ?? '', values: filter.values }));
}

/** `VolumeId.1=…&VolumeId.2=…`. */
function listOf(params: URLSearchParams, member: string): string[] {
  return [...params]
    .filter(([name]) => new RegExp(`^${member}\\.\\d+$`).test(name))
    .sort(([a], [b]) => Number(a.slice(member.length + 1)) - Number(b.slice(member.length + 1)))
    .map(([, value]) => value);
}

function wildcard(value: string): RegExp {
  const escaped = value
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`);
}

/** Whether an item with these filterable values passes every filter. */
function passes(filters: readonly Filter[], values: (name: string) => readonly string[]): boolean {
  return filters.every((filter) => {
    const own = values(filter.name);
    return filter.values.some((value) => own.some((candidate) => wildcard(value).test(candidate)));
  });
}

function checkFilters(filters: readonly Filter[], known: ReadonlySet<string>): void {
  for (const filter of filters) {
    if (!known.has(filter.name) && !filter.name.startsWith('tag:')) {
      throw new ServiceError('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
    }
  }
}

function volumeValues(volume: ProtectedResource, name: string): readonly string[] {
  switch (name) {
    case 'availability-zone':
      return [`${volume.region}a`];
    case 'create-time':
      return [volume.createdAt.toISOString()];
    case 'encrypted':
      return ['true'];
    case 'fast-restored':
    case 'multi-attach-enabled':
    case 'operator.managed':
      return ['false'];
    case 'size':
      return [String(SIZE_GIB)];
    case 'status':
      return ['available'];
    case 'volume-id':
      return [volume.id];
    case 'volume-type':
      return ['gp3'];
    default:
      // Attachments, tags, the snapshot it came from, an operator: the emulated volume has none.
      return [];
  }
}

function snapshotValues(snapshot: ProtectedResource, account: string, name: string): readonly string[] {
  switch (name) {
    case 'description':
      return [''];
    case 'encrypted':
      return ['true'];
    case 'owner-id':
      return [account];
    case 'progress':
      return ['100%'];
    case 'snapshot-id':
      return [snapshot.id];
    case 'start-time':
      return [snapshot.createdAt.toISOString()];
    case 'status':
      return ['completed'];
    case 'storage-tier':
      return ['standard'];
    case 'transfer-type':
      return ['standard'];
    case 'volume-id':
      // A snapshot whose source volume is gone (or that was copied) names vol-ffffffff.
      return ['vol-ffffffff'];
    case 'volume-size':
      return [String(SIZE_GIB)];
    default:
      return [];
  }
}

interface Listing {
  readonly action: 'DescribeVolumes' | 'DescribeSnapshots';
  readonly idMember: string;
  readonly idSet: string;
  readonly idPrefix: string;
  readonly notFound: string;
  readonly malformed: string;
  readonly noun: string;
  readonly maxPage: number;
}

const VOLUMES: Listing = {
  action: 'DescribeVolumes',
  idMember: 'VolumeId',
  idSet: 'volumeSet',
  idPrefix: 'vol-',
  notFound: 'InvalidVolume.NotFound',
  malformed: 'InvalidVolumeID.Malformed',
  noun: 'volume',
  maxPage: 500,
};

const SNAPSHOTS: Listing = {
  action: 'DescribeSnapshots',
  idMember: 'SnapshotId',
  idSet: 'snapshotSet',
  idPrefix: 'snap-',
  notFound: 'InvalidSnapshot.NotFound',
  malformed: 'InvalidSnapshotID.Malformed',
  noun: 'snapshot',
  maxPage: 1000,
};

/** IDs, MaxResults and NextToken, the same way for both listings. */
function select(
  listing: Listing,
  params: URLSearchParams,
  all: readonly ProtectedResource[],
  keep: (item: ProtectedResource) => boolean,
): { items: readonly ProtectedResource[]; nextToken: string | undefined } {
  const ids = listOf(params, listing.idMember);
  const maxResults = integerParameter(params.get('MaxResults') ?? undefined);
  if (ids.length > 0 && maxResults !== undefined) {
    throw new ServiceError(
      'InvalidParameterCombination',
      `The parameter ${listing.idSet} cannot be used with the parameter maxResults`,
    );
  }
  if (ids.length > 0) {
    for (const id of ids) {
      if (!new RegExp(`^${listing.idPrefix}[0-9a-f]+$`).test(id)) {
        throw new ServiceError(listing.malformed, `Invalid id: "${id}" (expecting "${listing.idPrefix}...")`);
      }
    }
    const missing = ids.filter((id) => !all.some((item) => item.id === id));
    if (missing.length > 0) {
      throw new ServiceError(
        listing.notFound,
        `The ${listing.noun}${missing.length > 1 ? 's' : ''} '${missing.join("', '")}' ${missing.length > 1 ? 'do' : 'does'} not exist.`,
      );
    }
    return { items: all.filter((item) => ids.includes(item.id) && keep(item)), nextToken: undefined };
  }
  if (maxResults !== undefined && (Number.isNaN(maxResults) || maxResults < 5)) {
    throw new ServiceError(
      'InvalidParameterValue',
      `Value ( ${params.get('MaxResults')} ) for parameter maxResults is invalid. Expecting a value greater than 5.`,
    );
  }
  const token = params.get('NextToken') ?? undefined;
  let after: string | undefined;
  try {
    after = token === undefined || token === '' ? undefined : decodeToken(listing.action, token);
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      throw new ServiceError('InvalidParameterValue', `The token '${token}' is invalid.`);
    }
    throw error;
  }
  const kept = all.filter(keep);
  const limit = maxResults === undefined ? kept.length : Math.min(maxResults, listing.maxPage);
  const page = pageAfter(kept, (item) => item.id, after, Math.max(limit, 1));
  return {
    items: page.items,
    nextToken: page.after === undefined ? undefined : encodeToken(listing.action, page.after),
  };
}

function volumeXml(volume: ProtectedResource): XmlElements {
  return {
    volumeId: volume.id,
    size: SIZE_GIB,
    snapshotId: '',
    availabilityZone: `${volume.region}a`,
    status: 'available',
    createTime: volume.createdAt,
    attachmentSet: new XmlList('item', []),
    encrypted: true,
    kmsKeyId: volume.key.arn,
    volumeType: 'gp3',
    iops: 3000,
    throughput: 125,
    multiAttachEnabled: false,
  };
}

function snapshotXml(snapshot: ProtectedResource, account: string): XmlElements {
  return {
    snapshotId: snapshot.id,
    volumeId: 'vol-ffffffff',
    status: 'completed',
    startTime: snapshot.createdAt,
    progress: '100%',
    ownerId: account,
    volumeSize: SIZE_GIB,
    description: '',
    encrypted: true,
    kmsKeyId: snapshot.key.arn,
    storageTier: 'standard',
  };
}

/** Owner.N: `self` and the account's own ID name the account's snapshots; other owners hold none here. */
function ownedByListedOwner(params: URLSearchParams, account: string): boolean {
  const owners = listOf(params, 'Owner');
  return owners.length === 0 || owners.some((owner) => owner === 'self' || owner === account);
}

export const ec2Service: InventoryServiceHandler = {
  operationOf(request) {
    return new URLSearchParams(request.body).get('Action') ?? '';
  },

  serve(world: InventoryWorld, request: InventoryRequest) {
    const params = new URLSearchParams(request.body);
    const action = params.get('Action') ?? '';
    if (params.get('DryRun') === 'true') {
      throw new ServiceError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    }
    const filters = filtersOf(params);
    if (action === 'DescribeVolumes') {
      checkFilters(filters, VOLUME_FILTERS);
      const all = world.of('AWS::EC2::Volume', request.region);
      const { items, nextToken } = select(VOLUMES, params, all, (volume) =>
        passes(filters, (name) => volumeValues(volume, name)),
      );
      return xmlAnswer(
        200,
        'DescribeVolumesResponse',
        {
          requestId: request.requestId,
          volumeSet: new XmlList('item', items.map(volumeXml)),
          nextToken,
        },
        NAMESPACE,
        request.requestId,
      );
    }
    if (action === 'DescribeSnapshots') {
      checkFilters(filters, SNAPSHOT_FILTERS);
      const all = world.of('AWS::EC2::Snapshot', request.region);
      const owned = ownedByListedOwner(params, world.account);
      const { items, nextToken } = select(
        SNAPSHOTS,
        params,
        all,
        (snapshot) => owned && passes(filters, (name) => snapshotValues(snapshot, world.account, name)),
      );
      return xmlAnswer(
        200,
        'DescribeSnapshotsResponse',
        {
          requestId: request.requestId,
          snapshotSet: new XmlList(
            'item',
            items.map((snapshot) => snapshotXml(snapshot, world.account)),
          ),
          nextToken,
        },
        NAMESPACE,
        request.requestId,
      );
    }
    throw new ServiceError('InvalidAction', `The action ${action} is not valid for this web service.`);
  },

  errorAnswer(error, request) {
    return ec2ErrorAnswer(error, request.requestId);
  },
};
