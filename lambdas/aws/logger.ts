import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per handler; the service name tells the handlers apart in CloudWatch. */
export function createLogger(handler: string): Logger {
  return new Logger({ serviceName: 'kms-deletion-guard', persistentKeys: { handler } });
}
