import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';

/** GetExecutionHistory, always with each state's input and output (the readers find their data there). */

export interface HistoryPageRequest {
  readonly maxResults: number;
  /** Newest event first. */
  readonly newestFirst?: boolean | undefined;
  readonly nextToken?: string | undefined;
}

export interface HistoryPage {
  readonly events: HistoryEvent[];
  /** Absent on the last page. */
  readonly nextToken?: string | undefined;
}

export async function readHistoryPage(
  client: SFNClient,
  executionArn: string,
  request: HistoryPageRequest,
): Promise<HistoryPage> {
  const page = await client.send(
    new GetExecutionHistoryCommand({
      executionArn,
      maxResults: request.maxResults,
      reverseOrder: request.newestFirst,
      // An empty token is no token: the first page.
      nextToken: request.nextToken || undefined,
      includeExecutionData: true,
    }),
  );
  return { events: page.events ?? [], nextToken: page.nextToken };
}

/** Every event of an execution's history, oldest first (all pages). */
export async function readHistory(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await readHistoryPage(client, executionArn, { maxResults: 1000, nextToken });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}
