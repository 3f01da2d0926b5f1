import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LINK_ATTRIBUTES } from '../../lambdas/contracts/approval.js';
import type { GuardFunction } from './guard-function.js';

export interface ApprovalLinksProps {
  /**
   * What happens to the table when the stack is deleted. Its items are credentials for requests that
   * end with their executions, so nothing in it outlives them usefully.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The link store: one item per approval link, keyed by the SHA-256 digest of the link's secret, with
 * the task token, execution, step, key and expiry it stands for (lambdas/contracts/approval.ts).
 *
 * The secret itself is stored nowhere; whoever reads the table holds digests, and a digest opens
 * nothing (the page hashes what it is given). Only two functions touch the table, each with only the
 * calls its code makes: the request function adds links (PutItem), the approval page reads and spends
 * them (GetItem, UpdateItem). DynamoDB's TTL drops an item some days after its request expired; the
 * page checks the expiry itself, since TTL deletes late.
 */
export class ApprovalLinks extends Construct {
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ApprovalLinksProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: LINK_ATTRIBUTES.hash, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: LINK_ATTRIBUTES.retainUntil,
      // DynamoDB's default encryption (an AWS owned key): a tool that deletes customer-managed keys
      // creates none of its own.
      encryption: dynamodb.TableEncryption.DEFAULT,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    Validations.of(this.table).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason:
        'No point-in-time recovery: each item is a one-time link that expires with its approval request (at most ' +
        'approvalTimeoutDays); a restored table would only bring back links that can no longer decide.',
    });
  }

  /** The request function: add new links, nothing else (it never reads one back). */
  public grantAdd(grantee: GuardFunction): void {
    this.grant(grantee, ['dynamodb:PutItem']);
  }

  /** The approval page: read a link and spend it (or give back a spend that never reached Step Functions). */
  public grantRedeem(grantee: GuardFunction): void {
    this.grant(grantee, ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
  }

  private grant(grantee: GuardFunction, actions: string[]): void {
    grantee.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [this.table.tableArn] }));
  }
}
