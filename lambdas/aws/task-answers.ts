import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';

/**
 * The answers to a task token that every waiting task of the workflow takes: the approvals (page and
 * CLI) and the watch. Errors (such as `TaskTimedOut` for a token no longer waiting) propagate.
 */

export async function succeedTask(client: SFNClient, taskToken: string, output: string): Promise<void> {
  await client.send(new SendTaskSuccessCommand({ taskToken, output }));
}

export interface TaskFailure {
  readonly error: string;
  readonly cause: string;
}

export async function failTask(client: SFNClient, taskToken: string, failure: TaskFailure): Promise<void> {
  await client.send(new SendTaskFailureCommand({ taskToken, error: failure.error, cause: failure.cause }));
}
