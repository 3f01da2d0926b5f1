import { PublishCommand } from '@aws-sdk/client-sns';
import { snsClient } from './clients.js';

export interface Notification {
  readonly subject: string;
  readonly text: string;
  /** String message attributes, which the topic's subscriptions may filter on. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Publishes an e-mail to the stack's topic (it lives in the stack's Region). */
export async function publish(topicArn: string, notification: Notification): Promise<void> {
  await snsClient().send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: notification.subject,
      Message: notification.text,
      MessageAttributes: Object.fromEntries(
        Object.entries(notification.attributes).map(([name, value]) => [
          name,
          { DataType: 'String', StringValue: value },
        ]),
      ),
    }),
  );
}
