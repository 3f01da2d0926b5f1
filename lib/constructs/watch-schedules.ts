import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { GuardFunction } from './guard-function.js';
import { acknowledgeWildcards } from './nag-acknowledgements.js';

/**
 * Where the watch's checks wait: a schedule group for the one-time schedules that chain the checks
 * of every held key (lambdas/check creates the next one at each check), and the role EventBridge
 * Scheduler uses to invoke the check function. Waiting here costs nothing per hour; the same wait
 * as a Step Functions loop cost three state transitions per check.
 */
export class WatchSchedules extends Construct {
  /** The group the check function creates its schedules in. */
  public readonly group: scheduler.ScheduleGroup;
  /** The role Scheduler assumes to invoke the check function; the check function passes it. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Deleting the stack deletes the group and every pending check with it, so no schedule outlives
    // the function it would invoke.
    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'InvokeRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          // Only schedules of this account may use the role (confused deputy).
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
      description: 'kms-deletion-guard: EventBridge Scheduler invokes the check function for the next check',
    });
  }

  /** The ARN pattern of the group's schedules (what CreateSchedule authorizes against). */
  public get scheduleArns(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.group.scheduleGroupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** Lets `grantee` create the next check's schedule here and pass the role, nothing else. */
  public grantCreate(grantee: GuardFunction): void {
    grantee.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['scheduler:CreateSchedule'], resources: [this.scheduleArns] }),
    );
    grantee.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledgeWildcards(grantee, [
      {
        resource: this.scheduleArns,
        reason:
          "The next check's one-time schedule, named per execution and check at run time, in the stack's own schedule group.",
      },
    ]);
  }

  /** Lets the schedules invoke `fn` (and only it). */
  public allowInvoke(fn: lambda.IFunction): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
    );
  }
}
