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

/** The topic that carries approval requests and evidence e-mails. */
export class Notifications extends Construct {
  public readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'kms-deletion-guard',
      enforceSSL: true,
      // The AWS managed key: a tool that deletes customer-managed keys should not create one of its own.
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    for (const email of props.approvalEmails ?? []) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
  }
}
