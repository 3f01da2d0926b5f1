import { backupService } from './backup.js';
import { ec2Service } from './ec2.js';
import { efsService } from './efs.js';
import { AWS_JSON_1_1 } from './json-service.js';
import {
  awsJsonErrorAnswer,
  type InventoryAnswer,
  type InventoryService,
  injectedFault,
  ServiceError,
} from './protocol.js';
import { rdsService } from './rds.js';
import type { InventoryWorld } from './resources.js';
import { s3Service } from './s3.js';
import { secretsManagerService } from './secrets-manager.js';
import type { InventoryRequest, InventoryServiceHandler } from './service.js';
import { ssmService } from './ssm.js';

/**
 * AWS Config (`StarlingDoveService.*`): the emulated account answers no Config query. Config can
 * only speed an inventory up (it records what it is set to record, so coverage never depends on
 * it); a scenario's `awsConfig.recording` and `recordedByConfig` are kept on each resource for a
 * later model of `SelectResourceConfig`, and change nothing a workflow can observe meanwhile.
 * Injected `config` faults still apply first, phrased as Config phrases them.
 */
const configService: InventoryServiceHandler = {
  operationOf(request) {
    const target = request.headers['x-amz-target'] ?? '';
    return target.slice(target.lastIndexOf('.') + 1);
  },
  serve(_world, request) {
    throw new ServiceError(
      'UnknownOperationException',
      `The emulated AWS Config does not answer ${this.operationOf(request)}.`,
    );
  },
  errorAnswer(error, request) {
    return awsJsonErrorAnswer(error, AWS_JSON_1_1, request.requestId);
  },
};

const HANDLERS: Readonly<Record<InventoryService, InventoryServiceHandler>> = {
  ec2: ec2Service,
  rds: rdsService,
  s3: s3Service,
  backup: backupService,
  secretsmanager: secretsManagerService,
  ssm: ssmService,
  elasticfilesystem: efsService,
  config: configService,
};

/** Query protocol API versions: the form body's `Version` tells EC2 and RDS from SNS. */
const QUERY_VERSIONS: Readonly<Record<string, InventoryService>> = {
  '2016-11-15': 'ec2',
  '2014-10-31': 'rds',
};

const TARGET_PREFIXES: Readonly<Record<string, InventoryService>> = {
  secretsmanager: 'secretsmanager',
  AmazonSSM: 'ssm',
  StarlingDoveService: 'config',
};

export interface RoutedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** `Credential=AKID/20260101/<region>/<service>/aws4_request` -> service. */
function signingServiceOf(authorization: string | undefined): string | undefined {
  return authorization
    ? /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([^/,\s]+)\//.exec(authorization)?.[1]
    : undefined;
}

/** The inventory service a request is for, or null for the emulator's other services. */
export function inventoryServiceOf(request: RoutedRequest): InventoryService | null {
  const target = request.headers['x-amz-target'] ?? '';
  const prefix = target.slice(0, Math.max(target.indexOf('.'), 0));
  const byTarget = TARGET_PREFIXES[prefix];
  if (byTarget) {
    return byTarget;
  }
  if ((request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return QUERY_VERSIONS[new URLSearchParams(request.body).get('Version') ?? ''] ?? null;
  }
  const path = new URL(request.url, 'http://emulator').pathname;
  if (path.startsWith('/backup-vaults')) {
    return 'backup';
  }
  if (path.startsWith('/2015-02-01/file-systems')) {
    return 'elasticfilesystem';
  }
  // S3 paths are bucket names: only the signature tells an S3 request apart.
  return signingServiceOf(request.headers.authorization) === 's3' ? 's3' : null;
}

/** What the router needs of the account: its resources, its faults and who is calling. */
export interface InventoryAccount {
  readonly inventory: InventoryWorld;
  readonly workflowPrincipalArn: string;
  /** The error a fault injects into this call, if one is due (and counts it). */
  serviceFault(service: InventoryService, operation: string): string | undefined;
}

/** One request to an inventory service: an injected fault, else the service's answer. */
export function answerInventory(
  service: InventoryService,
  routed: RoutedRequest,
  account: InventoryAccount,
  region: string,
  now: Date,
): InventoryAnswer {
  const url = new URL(routed.url, 'http://emulator');
  const handler = HANDLERS[service];
  const request: InventoryRequest = {
    method: routed.method,
    path: url.pathname,
    query: url.searchParams,
    headers: routed.headers,
    body: routed.body,
    region,
    requestId: account.inventory.nextRequestId(),
    now,
  };
  const operation = handler.operationOf(request);
  try {
    const fault = account.serviceFault(service, operation);
    if (fault !== undefined) {
      throw injectedFault(service, fault, operation, account.workflowPrincipalArn);
    }
    return handler.serve(account.inventory, request);
  } catch (error) {
    const failure =
      error instanceof ServiceError ? error : new ServiceError('InternalFailure', String(error), 500);
    return handler.errorAnswer(failure, request);
  }
}

export type { InventoryService } from './protocol.js';
