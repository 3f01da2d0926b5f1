/**
 * Alarm relay: CloudWatch invokes it when one of the stack's alarms goes into ALARM, and it publishes
 * the alarm to the notifications topic, so alarms reach the people who get the approval and evidence
 * e-mails.
 *
 * CloudWatch cannot publish to that topic itself: the topic is encrypted with the AWS managed key
 * `alias/aws/sns`, whose key policy lets no service principal (CloudWatch, EventBridge) use it, and an
 * AWS managed key's policy cannot be changed. A role of this account may use it through SNS, which is
 * how the workflow's and the fast path's own e-mails are sent, and how this relay sends.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { snsClient } from '../aws/clients.js';
import { readEnvironment } from '../aws/environment.js';
import { createLogger } from '../aws/logger.js';
import { alarmRelayEnvironment } from '../contracts/environment.js';
import { cloudWatchAlarmEventSchema } from '../contracts/events.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { AlarmRelaySettingsError, InvalidHandlerEventError } from '../domain/errors.js';
import { toSubject } from '../domain/subject.js';

const logger = createLogger('alarm-relay');

export interface RelayedAlarm {
  readonly alarmName: string;
  readonly state: string;
  readonly messageId: string | undefined;
}

export async function handler(rawEvent: unknown): Promise<RelayedAlarm> {
  const parsed = safeParseContract(cloudWatchAlarmEventSchema, rawEvent);
  if (!parsed.success) {
    throw new InvalidHandlerEventError(
      `The alarm relay received an event that is not a CloudWatch alarm action: ${describeIssues(parsed.error.issues, 3)}`,
    );
  }
  const { topicArn } = readEnvironment(alarmRelayEnvironment, AlarmRelaySettingsError);
  const { alarmArn, region, alarmData } = parsed.data;
  const { alarmName, state } = alarmData;
  const consoleUrl = region
    ? `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#alarmsV2:alarm/${encodeURIComponent(alarmName)}`
    : null;
  // The description says what the alarm means and what to do; the rest is what CloudWatch saw.
  const message = [
    alarmData.configuration?.description ?? `The alarm ${alarmName} changed its state.`,
    '',
    `State: ${state.value}${state.timestamp ? ` since ${state.timestamp}` : ''}`,
    ...(state.reason ? [`Reason: ${state.reason}`] : []),
    `Alarm: ${alarmArn}`,
    ...(consoleUrl ? [`Console: ${consoleUrl}`] : []),
  ].join('\n');

  const published = await snsClient().send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: toSubject(`${state.value}: kms-deletion-guard alarm ${alarmName}`),
      Message: message,
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'alarm' },
        alarm: { DataType: 'String', StringValue: alarmName },
      },
    }),
  );
  logger.info('alarm relayed', { alarmName, state: state.value, messageId: published.MessageId });
  return { alarmName, state: state.value, messageId: published.MessageId };
}
