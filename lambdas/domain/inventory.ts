import type { Refusal } from './types.js';

/**
 * What a key protects: the resources of its account and Region whose data is encrypted under it, the
 * grants on it and the principals of its policy, and the verdict the workflow draws from them.
 *
 * Data at rest never calls KMS while nobody reads it (an EBS snapshot kept for a yearly restore test,
 * an archive bucket, a secret read each quarter), so no watch of CloudTrail can see it: it becomes
 * unreadable forever the day the key is deleted. The inventory asks each service which of its
 * resources name the key, and refuses the key when any does, unless the requester named exactly those
 * resources in `acceptDataLoss`. A read that fails leaves the answer unknown, never "nothing there".
 *
 * Pure: the readers of lambdas/aws/inventory bring what the services answered.
 */

/** CloudFormation type names of the resources the inventory reads. */
export const RESOURCE_TYPES = [
  'AWS::EC2::Volume',
  'AWS::EC2::Snapshot',
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::RDS::DBSnapshot',
  'AWS::RDS::DBClusterSnapshot',
  'AWS::S3::Bucket',
  'AWS::Backup::RecoveryPoint',
  'AWS::SecretsManager::Secret',
  'AWS::SSM::Parameter',
  'AWS::DynamoDB::Table',
  'AWS::EFS::FileSystem',
  'AWS::Logs::LogGroup',
  'AWS::CloudTrail::Trail',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** One resource a service reports as encrypted under some KMS key (ours or another: a reader does not judge). */
export interface EncryptedResource {
  readonly type: ResourceType;
  /** The resource's ARN as the service gives it, or as AWS documents its form where the service gives none. */
  readonly arn: string;
  /** Other documented spellings of the same ARN a person may write in `acceptDataLoss`. */
  readonly otherArns?: readonly string[] | undefined;
  /** When the resource was created (ISO-8601), or null where the service does not say. */
  readonly createdAt: string | null;
  /** The key as the service names it: key ID, key ARN, alias name or alias ARN. */
  readonly keyRef: string;
}

/** A resource encrypted under this very key, as the state, the e-mails and the CLI show it. */
export interface ProtectedResource {
  readonly type: ResourceType;
  readonly arn: string;
  readonly createdAt: string | null;
  /** How the service names the key (an alias shows the resource follows the alias, not the key). */
  readonly keyRef: string;
}

/** A read that failed: the service, the call and the error, as the refusal names them. */
export interface InventoryFailure {
  /** The service's IAM prefix: `ec2`, `rds`, `s3`, ... */
  readonly service: string;
  /** The API call: `DescribeSnapshots`, ... */
  readonly call: string;
  /** The error's name (`AccessDeniedException`, `ThrottlingException`, ...). */
  readonly error: string;
  readonly message: string;
}

/** One grant on the key (ListGrants): an access path, which the watch observes; shown, never refused. */
export interface GrantSummary {
  readonly grantId: string;
  readonly name: string | null;
  readonly granteePrincipal: string;
  readonly retiringPrincipal: string | null;
  readonly operations: readonly string[];
  /** The encryption-context constraint in words, or null when the grant has none. */
  readonly constraints: string | null;
  readonly createdAt: string | null;
  readonly issuingAccount: string | null;
}

/** Who the key policy lets in (GetKeyPolicy): shown, never refused. */
export interface PolicySummary {
  /** AWS principals of Allow statements, as written. */
  readonly principals: readonly string[];
  /** Accounts other than the key's own that Allow statements name (as principals or `kms:CallerAccount`). */
  readonly otherAccounts: readonly string[];
  /** Service principals of Allow statements (`cloudtrail.amazonaws.com`, ...). */
  readonly servicePrincipals: readonly string[];
  /** Services the policy lets use the key on a caller's behalf (`kms:ViaService`). */
  readonly viaServices: readonly string[];
  /** True when an Allow statement names everyone (`"*"`), whatever its conditions. */
  readonly anyone: boolean;
  /** Set when the policy text is not a policy this summary can read. */
  readonly unreadable: string | null;
}

/** The key as the services may name it. */
export interface KeyIdentity {
  readonly keyId: string;
  readonly keyArn: string;
  /** Its alias names (`alias/...`), as ListAliases answers at inventory time. */
  readonly aliases: readonly string[];
}

/** What the readers brought back. */
export interface InventoryFindings {
  /** Every resource the services report encrypted under any customer key; matched to the key here. */
  readonly resources: readonly EncryptedResource[];
  readonly failures: readonly InventoryFailure[];
  /** Null when ListGrants failed (its failure is among `failures`). */
  readonly grants: readonly GrantSummary[] | null;
  /** Null when GetKeyPolicy failed. */
  readonly policy: PolicySummary | null;
  /** The trails of the key's Region (and the watch's, when it differs): which one feeds the watched group. */
  readonly trails: readonly TrailFacts[];
}

/** A trail and where it delivers (DescribeTrails). */
export interface TrailFacts {
  readonly arn: string;
  readonly kmsKeyId: string | null;
  /** `CloudWatchLogsLogGroupArn`, or null when the trail delivers to S3 only. */
  readonly logGroupArn: string | null;
}

/** The CloudTrail log group the watch reads, in the stack's Region. */
export interface WatchSource {
  readonly logGroupName: string;
  readonly region: string;
  readonly account: string;
}

/** When the inventory runs: before the disable approval (nothing changed yet), or before ScheduleKeyDeletion. */
export type InventoryPhase = 'BEFORE_DISABLE' | 'BEFORE_DELETION';

/** Resources listed in the state, the e-mails and the refusal; the count and the function's log cover the rest. */
export const MAX_LISTED_RESOURCES = 50;
/** Grants kept in the state and the e-mails. */
export const MAX_LISTED_GRANTS = 25;

/** The inventory as it travels in the workflow state (bounded: the state holds 256 KB). */
export interface InventoryReport {
  readonly phase: InventoryPhase;
  readonly takenAt: string;
  readonly region: string;
  /** The resources encrypted under the key, the first MAX_LISTED_RESOURCES of them. */
  readonly resources: readonly ProtectedResource[];
  readonly resourceCount: number;
  /**
   * How many ARNs `acceptDataLoss` names (the list itself stays in the request, once: the state is
   * bounded). When the inventory lets the key go on, they are exactly the resources found.
   */
  readonly acceptedDataLoss: number;
  readonly failures: readonly InventoryFailure[];
  readonly grants: readonly GrantSummary[];
  readonly grantCount: number;
  readonly policy: PolicySummary | null;
  /** Why the key would blind the watch (the log group, the trail feeding it); empty when it would not. */
  readonly watchSource: readonly string[];
}

const KEY_ARN = /^arn:([^:]+):kms:([^:]+):(\d{12}):key\/(.+)$/;

interface KeyNames {
  readonly keyId: string;
  readonly keyArn: string;
  readonly aliases: ReadonlySet<string>;
  readonly aliasArns: ReadonlySet<string>;
}

function namesOf(key: KeyIdentity): KeyNames {
  const [, partition, region, account] = KEY_ARN.exec(key.keyArn) ?? [];
  const aliasArns = new Set<string>();
  if (partition && region && account) {
    for (const alias of key.aliases) {
      aliasArns.add(`arn:${partition}:kms:${region}:${account}:${alias}`);
    }
  }
  return {
    keyId: key.keyId.toLowerCase(),
    keyArn: key.keyArn.toLowerCase(),
    aliases: new Set(key.aliases),
    aliasArns,
  };
}

/**
 * True when a service's reference names this key: its key ID or key ARN (key IDs are lower-case hex,
 * and a reference that differs only in case names the same key), or one of its aliases by name or
 * ARN (alias names are compared exactly). Only whole references match: a key whose ID starts like
 * this one's, an alias that shares a prefix, or this key's ID in another Region's ARN is another key.
 */
export function namesKey(keyRef: string, key: KeyIdentity): boolean {
  return matcher(key)(keyRef);
}

function matcher(key: KeyIdentity): (keyRef: string) => boolean {
  const names = namesOf(key);
  return (keyRef) => {
    const lower = keyRef.toLowerCase();
    return (
      lower === names.keyId ||
      lower === names.keyArn ||
      names.aliases.has(keyRef) ||
      names.aliasArns.has(keyRef)
    );
  };
}

/** The resources encrypted under this key, in a stable order (by type as listed, then ARN). */
export function resourcesOfKey(
  resources: readonly EncryptedResource[],
  key: KeyIdentity,
): EncryptedResource[] {
  const ours = matcher(key);
  const seen = new Set<string>();
  return resources
    .filter((resource) => ours(resource.keyRef))
    .filter((resource) => {
      const id = `${resource.type} ${resource.arn}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .sort(
      (a, b) => RESOURCE_TYPES.indexOf(a.type) - RESOURCE_TYPES.indexOf(b.type) || a.arn.localeCompare(b.arn),
    );
}

/** `arn:<partition>:logs:<region>:<account>:log-group:<name>` with or without the `:*` that CloudWatch Logs appends. */
function logGroupOf(arn: string): { region: string; account: string; name: string } | null {
  const match = /^arn:[^:]+:logs:([^:]+):(\d{12}):log-group:(.+?)(?::\*)?$/.exec(arn);
  const [, region, account, name] = match ?? [];
  return region && account && name ? { region, account, name } : null;
}

function isWatchedGroup(arn: string, source: WatchSource): boolean {
  const group = logGroupOf(arn);
  return (
    group !== null &&
    group.name === source.logGroupName &&
    group.region === source.region &&
    group.account === source.account
  );
}

/**
 * Why disabling the key would blind the watch: the key encrypts the log group the watch reads (while
 * the key is unusable CloudWatch Logs accepts nothing into the group), or a trail that delivers to it.
 */
export function watchSourceFindings(
  ours: readonly EncryptedResource[],
  trails: readonly TrailFacts[],
  key: KeyIdentity,
  source: WatchSource,
): string[] {
  const found: string[] = [];
  for (const resource of ours) {
    if (resource.type === 'AWS::Logs::LogGroup' && isWatchedGroup(resource.arn, source)) {
      found.push(
        `the key encrypts the CloudTrail log group ${source.logGroupName} that the watch reads (${resource.arn}): ` +
          'while the key is disabled or pending deletion CloudWatch Logs accepts nothing into the group, so the ' +
          'watch would see no failed call at all.',
      );
    }
  }
  const ourKey = matcher(key);
  const seen = new Set<string>();
  for (const trail of trails) {
    if (seen.has(trail.arn)) continue;
    seen.add(trail.arn);
    if (
      trail.kmsKeyId &&
      ourKey(trail.kmsKeyId) &&
      trail.logGroupArn &&
      isWatchedGroup(trail.logGroupArn, source)
    ) {
      found.push(
        `the key encrypts the trail ${trail.arn} that delivers to the watched log group ${source.logGroupName}: ` +
          'a trail whose key is unusable cannot deliver its records, so the watch would be blind.',
      );
    }
  }
  return found;
}

/** A resource as a person reads it in a list: type, ARN, when created, how the service names the key. */
export function describeResource(resource: ProtectedResource): string {
  return (
    `${resource.type} ${resource.arn} (created ${resource.createdAt ?? 'at an unknown time'}` +
    `${resource.keyRef.includes('alias/') ? `; encrypted through ${resource.keyRef}` : ''})`
  );
}

function listed(resources: readonly ProtectedResource[], total = resources.length): string {
  const shown = resources.slice(0, MAX_LISTED_RESOURCES).map((r) => `- ${describeResource(r)}`);
  const more = total - shown.length;
  return [
    ...shown,
    ...(more > 0 ? [`- and ${more} more (the inventory function's log lists every one)`] : []),
  ].join('\n');
}

/** `ec2 DescribeSnapshots: AccessDeniedException (message)` */
export function describeFailure(failure: InventoryFailure): string {
  return `${failure.service} ${failure.call}: ${failure.error}${failure.message ? ` (${failure.message})` : ''}`;
}

/** What the refusal says has happened to the key, by phase. */
function aftermath(phase: InventoryPhase): string {
  return phase === 'BEFORE_DISABLE'
    ? 'Nothing was changed.'
    : 'The key is not scheduled for deletion: the workflow gives it back as it was before this execution.';
}

function toArnSet(resource: EncryptedResource): string[] {
  return [resource.arn, ...(resource.otherArns ?? [])];
}

export interface JudgeInventoryArgs {
  readonly key: KeyIdentity;
  readonly findings: InventoryFindings;
  /** The execution input's `acceptDataLoss` (empty when not given). */
  readonly acceptDataLoss: readonly string[];
  readonly watchSource: WatchSource;
  readonly phase: InventoryPhase;
}

export interface InventoryJudgement {
  readonly refusal: Refusal | null;
  /** The resources encrypted under the key, every one (the report keeps the first MAX_LISTED_RESOURCES). */
  readonly resources: readonly EncryptedResource[];
  readonly watchSource: readonly string[];
}

/**
 * The inventory's verdict, in order: a key that encrypts the watch's own source is refused whatever
 * else is true (no acceptance makes a blind watch safe); a failed read refuses, since what it would
 * have shown is unknown; resources found refuse unless `acceptDataLoss` names exactly them.
 */
export function judgeInventory(args: JudgeInventoryArgs): InventoryJudgement {
  const { key, findings, phase } = args;
  const resources = resourcesOfKey(findings.resources, key);
  const watchSource = watchSourceFindings(resources, findings.trails, key, args.watchSource);
  const judged = (refusal: Refusal | null): InventoryJudgement => ({ refusal, resources, watchSource });

  if (watchSource.length > 0) {
    return judged({
      cause: 'ENCRYPTS_WATCH_SOURCE',
      message:
        `Key ${key.keyId} cannot be watched while it is disabled: ${watchSource.join(' Also, ')} ` +
        `${aftermath(phase)} Encrypt the log group (aws logs associate-kms-key) or the trail with another key first, ` +
        'or deploy the stack with a log group this key does not encrypt.',
    });
  }
  if (findings.failures.length > 0) {
    const found = resources.length
      ? ` What the reads that worked found encrypted under the key:\n${listed(resources)}\n`
      : ' ';
    return judged({
      cause: 'INVENTORY_INCOMPLETE',
      message:
        `The inventory of what key ${key.keyId} protects is incomplete: ` +
        `${findings.failures.map(describeFailure).join('; ')}. A read that fails is never taken to mean that ` +
        `nothing is there: the resources it would have listed could be encrypted under the key.${found}` +
        `${aftermath(phase)} Let the inventory function make the call (its role is granted exactly these reads; ` +
        'a service control policy or the Region may deny them) or start again once the service answers.',
    });
  }
  const accepted = new Set(args.acceptDataLoss);
  if (resources.length === 0 && accepted.size === 0) {
    return judged(null);
  }
  const notNamed = resources.filter((resource) => !toArnSet(resource).some((arn) => accepted.has(arn)));
  const foundArns = new Set(resources.flatMap(toArnSet));
  // A named resource the inventory did not find refuses too: the acceptance was written for another
  // picture of the account (a typo, a resource already re-encrypted or deleted, another Region), so it
  // is not informed consent to what would actually be lost; the requester must restate it.
  const notFound = [...accepted].filter((arn) => !foundArns.has(arn));
  if (notNamed.length === 0 && notFound.length === 0) {
    return judged(null);
  }
  const parts: string[] = [];
  if (resources.length > 0) {
    parts.push(
      `Key ${key.keyId} encrypts ${resources.length} resource${resources.length === 1 ? '' : 's'} whose data ` +
        `becomes unreadable forever when the key is deleted; no watch of CloudTrail can see data at rest that nobody ` +
        `reads:\n${listed(resources)}`,
    );
  } else {
    parts.push(`The inventory found nothing encrypted under key ${key.keyId}.`);
  }
  if (accepted.size > 0 && notNamed.length > 0) {
    parts.push(`acceptDataLoss does not name ${notNamed.length} of them:\n${listed(notNamed)}`);
  }
  if (notFound.length > 0) {
    parts.push(
      `acceptDataLoss names ${notFound.length} ARN${notFound.length === 1 ? '' : 's'} the inventory did not find ` +
        `encrypted under the key: ${notFound.slice(0, MAX_LISTED_RESOURCES).join(', ')}${
          notFound.length > MAX_LISTED_RESOURCES ? ` and ${notFound.length - MAX_LISTED_RESOURCES} more` : ''
        }. The acceptance must name exactly what would be lost.`,
    );
  }
  parts.push(
    `${aftermath(phase)} Re-encrypt or delete these resources first, or, to destroy their data on purpose, start ` +
      'again with "acceptDataLoss" naming exactly the ARNs listed.',
  );
  return judged({ cause: 'PROTECTS_DATA', message: parts.join('\n') });
}

/** The inventory as the state keeps it: lists bounded, counts whole. */
export function inventoryReport(args: {
  readonly phase: InventoryPhase;
  readonly takenAt: Date;
  readonly region: string;
  readonly judgement: InventoryJudgement;
  readonly findings: InventoryFindings;
  readonly acceptDataLoss: readonly string[];
}): InventoryReport {
  const { judgement, findings } = args;
  const grants = findings.grants ?? [];
  return {
    phase: args.phase,
    takenAt: args.takenAt.toISOString(),
    region: args.region,
    resources: judgement.resources.slice(0, MAX_LISTED_RESOURCES).map((r) => ({
      type: r.type,
      arn: r.arn,
      createdAt: r.createdAt,
      keyRef: r.keyRef,
    })),
    resourceCount: judgement.resources.length,
    acceptedDataLoss: args.acceptDataLoss.length,
    failures: findings.failures,
    grants: grants.slice(0, MAX_LISTED_GRANTS),
    grantCount: grants.length,
    policy: findings.policy,
    watchSource: judgement.watchSource,
  };
}

// --- Grants and key policy ----------------------------------------------------------------------

/** A ListGrants entry as the SDK returns it (only the fields summarised). */
export interface GrantEntry {
  readonly GrantId?: string | undefined;
  readonly Name?: string | undefined;
  readonly GranteePrincipal?: string | undefined;
  readonly RetiringPrincipal?: string | undefined;
  readonly Operations?: readonly string[] | undefined;
  readonly Constraints?:
    | {
        readonly EncryptionContextEquals?: Record<string, string> | undefined;
        readonly EncryptionContextSubset?: Record<string, string> | undefined;
      }
    | undefined;
  readonly CreationDate?: Date | undefined;
  readonly IssuingAccount?: string | undefined;
}

function contextText(context: Record<string, string>): string {
  return Object.entries(context)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

export function summarizeGrant(grant: GrantEntry): GrantSummary {
  const constraints = grant.Constraints;
  const parts = [
    ...(constraints?.EncryptionContextEquals
      ? [`encryption context equals {${contextText(constraints.EncryptionContextEquals)}}`]
      : []),
    ...(constraints?.EncryptionContextSubset
      ? [`encryption context includes {${contextText(constraints.EncryptionContextSubset)}}`]
      : []),
  ];
  return {
    grantId: grant.GrantId ?? '(no ID)',
    name: grant.Name || null,
    granteePrincipal: grant.GranteePrincipal ?? '(unknown grantee)',
    retiringPrincipal: grant.RetiringPrincipal ?? null,
    operations: [...(grant.Operations ?? [])],
    constraints: parts.length > 0 ? parts.join('; ') : null,
    createdAt: grant.CreationDate instanceof Date ? grant.CreationDate.toISOString() : null,
    issuingAccount: grant.IssuingAccount ?? null,
  };
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function strings(value: unknown): string[] {
  return asList(value).filter((v): v is string => typeof v === 'string');
}

function accountOf(principal: string): string | null {
  if (/^\d{12}$/.test(principal)) return principal;
  const match = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principal);
  return match?.[1] ?? null;
}

/** Every value of condition key `key` (any operator, any case of the key) in a statement's Condition. */
function conditionValues(condition: unknown, key: string): string[] {
  if (typeof condition !== 'object' || condition === null) return [];
  const values: string[] = [];
  for (const operands of Object.values(condition as Record<string, unknown>)) {
    if (typeof operands !== 'object' || operands === null) continue;
    for (const [name, value] of Object.entries(operands as Record<string, unknown>)) {
      if (name.toLowerCase() === key.toLowerCase()) values.push(...strings(value));
    }
  }
  return values;
}

/**
 * Who the key policy lets in: the AWS and service principals of its Allow statements, the accounts
 * other than the key's own among them (or named by `kms:CallerAccount`), and the services named by
 * `kms:ViaService`. A policy that is not JSON or has no statements is reported as unreadable.
 */
export function summarizeKeyPolicy(policyText: string, keyAccount: string): PolicySummary {
  const empty: PolicySummary = {
    principals: [],
    otherAccounts: [],
    servicePrincipals: [],
    viaServices: [],
    anyone: false,
    unreadable: null,
  };
  let document: unknown;
  try {
    document = JSON.parse(policyText);
  } catch {
    return { ...empty, unreadable: 'the key policy is not JSON' };
  }
  const statements =
    typeof document === 'object' && document !== null
      ? asList((document as { Statement?: unknown }).Statement)
      : [];
  if (statements.length === 0) {
    return { ...empty, unreadable: 'the key policy has no statements' };
  }
  const principals = new Set<string>();
  const services = new Set<string>();
  const via = new Set<string>();
  const accounts = new Set<string>();
  let anyone = false;
  for (const raw of statements) {
    if (typeof raw !== 'object' || raw === null) continue;
    const statement = raw as { Effect?: unknown; Principal?: unknown; Condition?: unknown };
    if (statement.Effect !== 'Allow') continue;
    const principal = statement.Principal;
    if (principal === '*') {
      anyone = true;
    } else if (typeof principal === 'object' && principal !== null) {
      const byKind = principal as Record<string, unknown>;
      for (const aws of strings(byKind.AWS)) {
        if (aws === '*') anyone = true;
        else principals.add(aws);
        const account = accountOf(aws);
        if (account) accounts.add(account);
      }
      for (const service of strings(byKind.Service)) services.add(service);
      for (const federated of strings(byKind.Federated)) principals.add(federated);
    }
    for (const service of conditionValues(statement.Condition, 'kms:ViaService')) via.add(service);
    for (const account of conditionValues(statement.Condition, 'kms:CallerAccount')) accounts.add(account);
  }
  accounts.delete(keyAccount);
  return {
    principals: [...principals].sort(),
    otherAccounts: [...accounts].sort(),
    servicePrincipals: [...services].sort(),
    viaServices: [...via].sort(),
    anyone,
    unreadable: null,
  };
}
