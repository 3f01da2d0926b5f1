import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { TAGS } from '../../lambdas/contracts/tags.js';
import type { GuardFunction } from './guard-function.js';
import type { HoldRegistry } from './hold-registry.js';
import { acknowledgeWildcards } from './nag-acknowledgements.js';

export interface GuardGrantsProps {
  /** Only keys with this tag may be disabled or scheduled for deletion. */
  readonly keyTagCondition?: { readonly key: string; readonly value: string } | undefined;
  /** The CloudTrail log group the handlers search. */
  readonly logGroupName: string;
  /**
   * The configured idle period: AWS itself denies disabling or deleting a key used more recently
   * (`kms:TrailingDaysWithoutKeyUsage`).
   * @default no recency statement
   */
  readonly minIdleDays?: number | undefined;
}

/** The condition key AWS KMS evaluates on DisableKey and ScheduleKeyDeletion: whole days since the key's last use. */
export const TRAILING_DAYS_WITHOUT_KEY_USAGE = 'kms:TrailingDaysWithoutKeyUsage';

/**
 * Read and conditionally write holds in the registry: exactly the calls of lambdas/aws/hold-registry.ts
 * and hold-reader.ts, on that table only (no index, no scan, no delete: a hold ends by a write, and
 * its record stays).
 */
export function grantHolds(grantee: GuardFunction, registry: HoldRegistry): void {
  grantee.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: [registry.table.tableArn],
    }),
  );
}

/** Read holds in the registry: exactly the call of lambdas/aws/hold-reader.ts, on that table only. */
export function grantReadHolds(grantee: GuardFunction, registry: HoldRegistry): void {
  grantee.function.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [registry.table.tableArn] }),
  );
}

/**
 * The sweep's calls on the registry (lambdas/aws/sweep-registry.ts): Scan to list the holds, GetItem
 * and PutItem for its own progress and the holds' sightings. Its code never writes a hold: every
 * PutItem it sends is on a `sweep#` or `sightings#` item, conditioned so.
 */
export function grantSweepHolds(
  grantee: GuardFunction,
  registry: HoldRegistry,
  actions: readonly string[] = ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:PutItem'],
): void {
  grantee.function.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [...actions],
      resources: [registry.table.tableArn],
    }),
  );
}

const ANY_KEY_REASON =
  'The key is chosen per execution at run time, in any Region of this account; never another account.';

/**
 * What one of the workflow's Lambdas may do on KMS keys and on the CloudTrail source. Each grant adds
 * its statement to the function's role and acknowledges, with its reason, the wildcard it needs, so a
 * wildcard nobody granted on purpose still fails the cdk-nag check. Grants chain:
 * `new GuardGrants(fn, props).read().canary()`.
 */
export class GuardGrants {
  private readonly anyKey: string;
  private readonly tagCondition: Record<string, Record<string, string>> | undefined;
  private readonly stack: Stack;
  private readonly logGroupName: string;
  private readonly minIdleDays: number | undefined;

  constructor(
    private readonly grantee: GuardFunction,
    props: GuardGrantsProps,
  ) {
    this.stack = Stack.of(grantee);
    this.logGroupName = props.logGroupName;
    this.minIdleDays = props.minIdleDays;
    // Keys may live in any Region of this account (a key ARN of another Region is handled there);
    // never in another account, where GetKeyLastUsage does not work.
    this.anyKey = this.stack.formatArn({ service: 'kms', region: '*', resource: 'key', resourceName: '*' });
    this.tagCondition = props.keyTagCondition
      ? { StringEquals: { [`aws:ResourceTag/${props.keyTagCondition.key}`]: props.keyTagCondition.value } }
      : undefined;
  }

  /** Describe the key and read its tags (the hold's mirror). */
  public read(): this {
    return this.onKeys(['kms:DescribeKey', 'kms:ListResourceTags'], ANY_KEY_REASON);
  }

  /** Read the key, its tags and when it was last used. */
  public readUsage(): this {
    return this.onKeys(['kms:DescribeKey', 'kms:ListResourceTags', 'kms:GetKeyLastUsage'], ANY_KEY_REASON);
  }

  /** List the aliases that name a key (callers may use one instead of its ID). */
  public listAliases(): this {
    // ListAliases does not support resource-level permissions.
    return this.add(new iam.PolicyStatement({ actions: ['kms:ListAliases'], resources: ['*'] }), {
      resource: '*',
      reason: 'KMS ListAliases supports no resource-level permissions.',
    });
  }

  /**
   * Take a step toward deletion: tag the key as held, then disable it or schedule its deletion. With
   * minIdleDays, AWS itself refuses the step on a key used within that many days.
   */
  public hold(action: 'kms:DisableKey' | 'kms:ScheduleKeyDeletion'): this {
    this.onKeys(
      ['kms:TagResource', action],
      `${ANY_KEY_REASON} keyTagCondition narrows the actions that disable or delete to tagged keys.`,
      this.tagCondition,
    );
    if (this.minIdleDays !== undefined) {
      this.denyRecentlyUsed(action, this.minIdleDays);
    }
    return this;
  }

  /**
   * An explicit Deny of `action` on any key whose `kms:TrailingDaysWithoutKeyUsage` is below
   * `minIdleDays`, so that not even a bug in this code can disable or delete a key used more recently
   * than the idle period: the assessment refuses such a key, and AWS refuses the call as well.
   *
   * The value is the whole days since the key's last successful cryptographic operation (what
   * GetKeyLastUsage reports; failed calls such as the workflow's canaries on the disabled key are not
   * uses). The form is plain `NumericLessThan`, never `NumericLessThanIfExists`: a condition key with
   * no value makes a plain numeric operator false, so the Deny never applies where KMS supplies no
   * value (a key with no usage record, as some readings of the key have it), while `...IfExists` would
   * deny there. Public tests against AWS report that KMS does supply a value for a key never used,
   * counted from its creation (or from TrackingStartDate for a key older than tracking): a key younger
   * than minIdleDays is then denied too. That fails closed: DisableKey answers AccessDeniedException
   * after the approval, the key is left as it was and the run ends ABORTED.
   */
  private denyRecentlyUsed(action: string, minIdleDays: number): void {
    this.grantee.function.addToRolePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: [action],
        resources: [this.anyKey],
        conditions: { NumericLessThan: { [TRAILING_DAYS_WITHOUT_KEY_USAGE]: minIdleDays } },
      }),
    );
  }

  /**
   * The canary (one call that must fail on the held key), only on keys that carry the workflow's
   * status tag: the workflow can never encrypt, sign or derive with a key it does not hold.
   */
  public canary(): this {
    return this.onKeys(
      ['kms:Encrypt', 'kms:Sign', 'kms:GenerateMac', 'kms:DeriveSharedSecret'],
      `${ANY_KEY_REASON} Only keys that carry the workflow's status tag.`,
      { Null: { [`aws:ResourceTag/${TAGS.status}`]: 'false' }, ...this.tagCondition },
    );
  }

  /** Give back a key this workflow held: re-enable it, or cancel its deletion, and say so on its tags. */
  public restore(): this {
    return this.onKeys(['kms:TagResource', 'kms:EnableKey', 'kms:CancelKeyDeletion'], ANY_KEY_REASON);
  }

  /** Read and write this stack's record of the keys it holds (the authority the tags only mirror). */
  public holds(registry: HoldRegistry): this {
    grantHolds(this.grantee, registry);
    return this;
  }

  /** Read, never write, the hold registry's records. */
  public readHolds(registry: HoldRegistry): this {
    grantReadHolds(this.grantee, registry);
    return this;
  }

  /** Search the CloudTrail log group, and tell a missing group from an empty one. */
  public readLogGroup(): this {
    const group = this.logGroupArn(this.logGroupName);
    const streams = this.logGroupArn(`${this.logGroupName}:*`);
    this.add(new iam.PolicyStatement({ actions: ['logs:FilterLogEvents'], resources: [group, streams] }), {
      resource: streams,
      reason: 'FilterLogEvents on the CloudTrail log group and its streams.',
    });
    // DescribeLogGroups authorizes on the account's log groups as a whole, not on one group.
    const anyGroup = this.logGroupArn('*');
    return this.add(new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups'], resources: [anyGroup] }), {
      resource: anyGroup,
      reason: "DescribeLogGroups authorizes on the account's log groups, not on one group.",
    });
  }

  /**
   * Prove the log group's subscription lost nothing: read the filter, and the delivery metrics of the
   * group and of the receiver.
   */
  public proveDeliveries(): this {
    const group = this.logGroupArn(this.logGroupName);
    const streams = this.logGroupArn(`${this.logGroupName}:*`);
    this.add(
      new iam.PolicyStatement({ actions: ['logs:DescribeSubscriptionFilters'], resources: [group, streams] }),
      { resource: streams, reason: 'DescribeSubscriptionFilters on the CloudTrail log group.' },
    );
    return this.add(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }), {
      resource: '*',
      reason: 'CloudWatch GetMetricData supports no resource-level permissions.',
    });
  }

  /** Check the setup of the trail that delivers to the log group (what `doctor` reports). */
  public inspectTrails(): this {
    // DescribeTrails has no resource type; the others take a trail.
    this.add(new iam.PolicyStatement({ actions: ['cloudtrail:DescribeTrails'], resources: ['*'] }), {
      resource: '*',
      reason: 'CloudTrail DescribeTrails supports no resource-level permissions.',
    });
    // Organization trails live in the management account, so the trail ARN's account is open;
    // the actions only read a trail's selectors and status.
    const anyTrail = this.stack.formatArn({
      service: 'cloudtrail',
      region: '*',
      account: '*',
      resource: 'trail',
      resourceName: '*',
    });
    return this.add(
      new iam.PolicyStatement({
        actions: ['cloudtrail:GetEventSelectors', 'cloudtrail:GetTrailStatus'],
        resources: [anyTrail],
      }),
      {
        resource: anyTrail,
        reason:
          'Reads the selectors and status of whichever trail delivers to the log group; organization trails ' +
          'belong to the management account, so the trail is known only at run time.',
      },
    );
  }

  /**
   * Read what a key protects (lambdas/aws/inventory): each service's read calls in any Region of this
   * account, the key's grants, policy and aliases. Nothing here writes.
   */
  public readInventory(): this {
    const account = this.stack.account;
    const partition = this.stack.partition;
    const anyRegion = (service: string, resource: string) =>
      `arn:${partition}:${service}:*:${account}:${resource}`;
    // The Describe/List calls below support no resource-level permissions (the Service Authorization
    // Reference lists no resource type for them), so they take "*".
    this.add(
      new iam.PolicyStatement({
        actions: [
          'ec2:DescribeVolumes',
          'ec2:DescribeSnapshots',
          's3:ListAllMyBuckets',
          'backup:ListBackupVaults',
          'secretsmanager:ListSecrets',
          'ssm:DescribeParameters',
          'dynamodb:ListTables',
          'cloudtrail:DescribeTrails',
        ],
        resources: ['*'],
      }),
      {
        resource: '*',
        reason: 'These Describe/List calls of the inventory support no resource-level permissions.',
      },
    );
    const scoped: readonly [string, string][] = [
      ['rds:DescribeDBInstances', anyRegion('rds', 'db:*')],
      ['rds:DescribeDBClusters', anyRegion('rds', 'cluster:*')],
      ['rds:DescribeDBSnapshots', anyRegion('rds', 'snapshot:*')],
      ['rds:DescribeDBClusterSnapshots', anyRegion('rds', 'cluster-snapshot:*')],
      ['s3:GetEncryptionConfiguration', `arn:${partition}:s3:::*`],
      ['backup:ListRecoveryPointsByBackupVault', anyRegion('backup', 'backup-vault:*')],
      ['dynamodb:DescribeTable', anyRegion('dynamodb', 'table/*')],
      ['elasticfilesystem:DescribeFileSystems', anyRegion('elasticfilesystem', 'file-system/*')],
      ['logs:DescribeLogGroups', anyRegion('logs', 'log-group:*')],
    ];
    for (const [action, resource] of scoped) {
      this.add(new iam.PolicyStatement({ actions: [action], resources: [resource] }), {
        resource,
        reason: `The inventory reads every resource of this type in the key's Region (${action}); the key is chosen at run time.`,
      });
    }
    this.onKeys(['kms:ListGrants', 'kms:GetKeyPolicy'], ANY_KEY_REASON);
    return this.listAliases();
  }

  private onKeys(
    actions: string[],
    reason: string,
    conditions?: Record<string, Record<string, string>>,
  ): this {
    const statement = new iam.PolicyStatement({
      actions,
      resources: [this.anyKey],
      ...(conditions ? { conditions } : {}),
    });
    return this.add(statement, { resource: this.anyKey, reason });
  }

  private add(
    statement: iam.PolicyStatement,
    wildcard: { readonly resource: string; readonly reason: string },
  ): this {
    this.grantee.function.addToRolePolicy(statement);
    acknowledgeWildcards(this.grantee, [wildcard]);
    return this;
  }

  private logGroupArn(name: string): string {
    return this.stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
