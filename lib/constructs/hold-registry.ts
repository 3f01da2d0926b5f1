import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface HoldRegistryProps {
  /**
   * What happens to the table when the stack is deleted. The registry is the record of which keys the
   * stack disabled and how each hold ended, wanted most after an uninstall (a key left Disabled by a
   * stack that is gone can still be traced to the execution that disabled it).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The registry of holds the stack owns: one item per KMS key, partition key `keyArn`, written by the
 * workflow's Lambdas and the fast path with conditional writes (lambdas/aws/hold-registry.ts). It is
 * the authority for re-enabling a key or cancelling its deletion; the keys' tags mirror it.
 * On-demand capacity (a few writes per hold), point-in-time recovery, retained with the stack.
 */
export class HoldRegistry extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: HoldRegistryProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'keyArn', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only the sweep's sightings items carry it: DynamoDB deletes them once their hold is long over.
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** The variables a function reads the registry's name from (lambdas/contracts/environment.ts). */
  public get environment(): { readonly KDG_HOLD_TABLE: string } {
    return { KDG_HOLD_TABLE: this.table.tableName };
  }
}
