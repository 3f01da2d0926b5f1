import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  /**
   * Addresses that receive approval requests and evidence e-mails.
   * @default [] (no subscription; approvals can still be answered with the CLI)
   */
  readonly approvalEmails?: readonly string[];
}

/**
 * The topics of the stack's e-mails: one for evidence, refusals and alarms, one for approval requests.
 *
 * An approval e-mail's link carries a one-time secret that decides a step, so its topic takes no
 * subscriber but the configured addresses: its policy denies `sns:Subscribe` for any other endpoint,
 * to every principal of the account, whatever its own policies allow.
 */
export class Notifications extends Construct {
  /** Evidence, refusals, outcomes and alarms. */
  public readonly topic: sns.Topic;
  /** Approval requests only (lambdas/request-approval publishes them). */
  public readonly approvalTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps = {}) {
    super(scope, id);
    const emails = props.approvalEmails ?? [];
    // The AWS managed key: a tool that deletes customer-managed keys should not create one of its own.
    const masterKey = kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns');
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'kms-deletion-guard',
      enforceSSL: true,
      masterKey,
    });
    this.approvalTopic = new sns.Topic(this, 'ApprovalTopic', {
      displayName: 'kms-deletion-guard approvals',
      enforceSSL: true,
      masterKey,
    });
    this.approvalTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyConfiguredApproversSubscribe',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Subscribe'],
        resources: [this.approvalTopic.topicArn],
        ...(emails.length > 0
          ? { conditions: { StringNotEqualsIgnoreCase: { 'sns:Endpoint': [...emails] } } }
          : {}),
      }),
    );
    for (const email of emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
      this.approvalTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
