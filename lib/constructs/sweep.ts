import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GuardFunction } from './guard-function.js';
import { type GuardGrants, grantSweepHolds } from './guard-grants.js';
import type { HoldRegistry } from './hold-registry.js';

/** How often the sweep's schedule wakes it: a new sweep when one is due, or the next part of a split one. */
export const SWEEP_RATE = Duration.minutes(5);

export interface SweepProps {
  /** The hold registry: the live holds it lists, and where it writes each hold's sightings. */
  readonly registry: HoldRegistry;
  /** The CloudTrail log group the workflow watches. */
  readonly logGroupName: string;
  /** The grants' shared settings (GuardGrants): the same as every other function of the stack. */
  readonly grants: (fn: GuardFunction) => GuardGrants;
  /** Minutes between the starts of two sweeps. */
  readonly intervalMinutes: number;
  /** Minutes CloudTrail may take to deliver: each hold's search starts this long before its disable. */
  readonly ingestionLagMinutes: number;
  /** The roles of the workflow's Lambdas: their records (the canaries) are kept apart from evidence. */
  readonly workflowRoles: readonly iam.IRole[];
}

/**
 * The sweep: one search of the CloudTrail log group per interval for every held key, in place of a
 * search per key per check. A schedule wakes the function every five minutes; it starts a sweep once
 * the last one is an interval old, or goes on with a search split across invocations. It writes each
 * hold's records to the registry (sightings) and nothing else: the workflow's checks read them and
 * decide as before. One sweep at a time (reserved concurrency 1; its progress is a compare-and-set).
 */
export class Sweep extends Construct {
  public readonly function: GuardFunction<'sweep'>;
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: SweepProps) {
    super(scope, id);
    if (!Number.isInteger(props.intervalMinutes) || props.intervalMinutes < SWEEP_RATE.toMinutes()) {
      throw new RangeError(
        `The sweep's interval must be a whole number of minutes of at least ${SWEEP_RATE.toMinutes()} (how often its schedule runs); received ${props.intervalMinutes}.`,
      );
    }
    this.function = new GuardFunction(this, 'Function', {
      handler: 'sweep',
      description:
        'kms-deletion-guard: search CloudTrail once for failed calls on every held key; record what each hold shows',
      timeout: Duration.minutes(5),
      memorySize: 512,
      reservedConcurrentExecutions: 1,
      environment: {
        KDG_LOG_GROUP: props.logGroupName,
        KDG_INGESTION_LAG_SECONDS: String(props.ingestionLagMinutes * 60),
        KDG_SWEEP_INTERVAL_SECONDS: String(props.intervalMinutes * 60),
        KDG_WORKFLOW_PRINCIPALS: props.workflowRoles.map((role) => role.roleArn).join(','),
        ...props.registry.environment,
      },
    });
    props.grants(this.function).readLogGroup();
    grantSweepHolds(this.function, props.registry);

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'kms-deletion-guard sweep: start a sweep when one is due, or go on with a split one',
      schedule: events.Schedule.rate(SWEEP_RATE),
      // EventBridge does not retry a delivery it could not make: the next run is five minutes later.
      // A sweep that fails is retried by Lambda (twice, as any asynchronous invocation); a retry that
      // meets a running sweep waits for it (reserved concurrency 1) or finds the work done.
      targets: [new targets.LambdaFunction(this.function.function, { retryAttempts: 0 })],
    });
  }

  /**
   * How old a hold's sightings may be when a check reads them: two intervals (one may be running, one
   * split across invocations) and the schedule's rate. Older, the sweep has stopped: the check fails.
   */
  public static maxAgeSeconds(intervalMinutes: number): number {
    return (2 * intervalMinutes + SWEEP_RATE.toMinutes()) * 60;
  }
}
