import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { readHistory, readHistoryPage } from '../../../lambdas/aws/execution-history.js';
import { EXECUTION } from '../fixtures.js';

const sfn = mockClient(SFNClient);

afterEach(() => {
  sfn.reset();
});

describe('readHistory', () => {
  it('reads every page, oldest first, with the state data', async () => {
    // Prepare
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({
        events: [{ id: 1, type: 'ExecutionStarted', timestamp: new Date(0) }],
        nextToken: 'p2',
      })
      .resolves({ events: [{ id: 2, type: 'PassStateEntered', timestamp: new Date(1) }] });

    // Act
    const events = await readHistory(new SFNClient({ region: 'us-east-1' }), EXECUTION);

    // Assess
    expect(events.map((e) => e.id)).toEqual([1, 2]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input)).toEqual([
      {
        executionArn: EXECUTION,
        maxResults: 1000,
        reverseOrder: undefined,
        nextToken: undefined,
        includeExecutionData: true,
      },
      {
        executionArn: EXECUTION,
        maxResults: 1000,
        reverseOrder: undefined,
        nextToken: 'p2',
        includeExecutionData: true,
      },
    ]);
  });
});

describe('readHistoryPage', () => {
  it('reads newest first on request, and takes an empty token for the first page', async () => {
    // Prepare
    sfn.on(GetExecutionHistoryCommand).resolves({});

    // Act
    const page = await readHistoryPage(new SFNClient({ region: 'us-east-1' }), EXECUTION, {
      maxResults: 100,
      newestFirst: true,
      nextToken: '',
    });

    // Assess
    expect(page).toEqual({ events: [], nextToken: undefined });
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toEqual({
      executionArn: EXECUTION,
      maxResults: 100,
      reverseOrder: true,
      nextToken: undefined,
      includeExecutionData: true,
    });
  });
});
