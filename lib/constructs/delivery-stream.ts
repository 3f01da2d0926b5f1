import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import { FAILED_CALLS_PATTERN } from '../../lambdas/domain/filter-pattern.js';
import { PROOF_RATE_MS, STREAM_SETTLE_MS } from '../../lambdas/domain/stream.js';
import { GuardFunction } from './guard-function.js';
import { type GuardGrants, grantSweepHolds } from './guard-grants.js';
import type { HoldRegistry } from './hold-registry.js';

/** How often the proof of the deliveries runs: a last look waits for it, so it runs often (it is cheap). */
export const PROOF_RATE = Duration.millis(PROOF_RATE_MS);

export interface DeliveryStreamProps {
  /** The hold registry: the live holds the deliveries are matched against, their sightings, the proof. */
  readonly registry: HoldRegistry;
  /** The CloudTrail log group the workflow watches: the subscription is made on it. */
  readonly logGroupName: string;
  /** The grants' shared settings (GuardGrants): the same as every other function of the stack. */
  readonly grants: (fn: GuardFunction) => GuardGrants;
  /** Minutes CloudTrail may take to deliver: each hold's records count from this long before its disable. */
  readonly ingestionLagMinutes: number;
  /** The roles of the workflow's Lambdas: their records (the canaries) are kept apart from evidence. */
  readonly workflowRoles: readonly iam.IRole[];
}

/**
 * The sweep's subscription source (`sweepSubscription: true`): a subscription filter on the CloudTrail
 * log group hands every failed KMS call to the Deliveries function as CloudWatch Logs ingests it, and
 * the DeliveryProof function proves every five minutes that none was lost (the filter is the stack's;
 * no delivery failed, was throttled or dropped). Nothing reads the log group again to find a late
 * record: the trail's records are each looked at once, by CloudWatch Logs (lambdas/domain/stream.ts).
 */
export class DeliveryStream extends Construct {
  public readonly deliveries: GuardFunction<'deliveries'>;
  public readonly proof: GuardFunction<'delivery-proof'>;
  public readonly subscription: logs.SubscriptionFilter;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: DeliveryStreamProps) {
    super(scope, id);
    this.deliveries = new GuardFunction(this, 'Deliveries', {
      handler: 'deliveries',
      description:
        "kms-deletion-guard: receive the trail's failed KMS calls from the log group's subscription",
      timeout: Duration.minutes(1),
      memorySize: 512,
      environment: {
        KDG_INGESTION_LAG_SECONDS: String(props.ingestionLagMinutes * 60),
        KDG_WORKFLOW_PRINCIPALS: props.workflowRoles.map((role) => role.roleArn).join(','),
        ...props.registry.environment,
      },
    });
    grantSweepHolds(this.deliveries, props.registry, [
      'dynamodb:BatchGetItem',
      'dynamodb:Scan',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    ]);

    // The filter's name is the stack's: the proof finds it by name, and a second stack on the same
    // log group takes the group's other subscription slot (CloudWatch Logs allows two).
    const filterName = `${Stack.of(this).stackName}-failed-kms-calls`;
    const logGroup = logs.LogGroup.fromLogGroupName(this, 'LogGroup', props.logGroupName);
    this.subscription = new logs.SubscriptionFilter(this, 'Subscription', {
      logGroup,
      filterName,
      destination: new LambdaDestination(this.deliveries.function),
      filterPattern: logs.FilterPattern.literal(FAILED_CALLS_PATTERN),
    });

    this.proof = new GuardFunction(this, 'Proof', {
      handler: 'delivery-proof',
      description: "kms-deletion-guard: prove the log group's subscription lost no failed call",
      timeout: Duration.minutes(1),
      environment: {
        KDG_LOG_GROUP: props.logGroupName,
        KDG_SUBSCRIPTION_FILTER: filterName,
        KDG_DELIVERIES_FUNCTION: this.deliveries.function.functionName,
        KDG_DELIVERIES_FUNCTION_ARN: this.deliveries.function.functionArn,
        ...props.registry.environment,
      },
    });
    props.grants(this.proof).proveDeliveries();
    grantSweepHolds(this.proof, props.registry, ['dynamodb:GetItem', 'dynamodb:PutItem']);

    this.rule = new events.Rule(this, 'Schedule', {
      description: "kms-deletion-guard: prove the log group's subscription lost no failed call",
      schedule: events.Schedule.rate(PROOF_RATE),
      // A proof that fails is retried by Lambda; the next one runs five minutes later anyway.
      targets: [new targets.LambdaFunction(this.proof.function, { retryAttempts: 0 })],
    });
  }

  /**
   * How old the proof may be when a check reads it: where a proof stands (STREAM_SETTLE_MS behind it),
   * one missed run and the next. Older, the proof has stopped: the check fails.
   */
  public static maxAgeSeconds(): number {
    return STREAM_SETTLE_MS / 1000 + 3 * PROOF_RATE.toSeconds();
  }
}
