import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { bufferedIo } from '../../../lib/cli/io.js';
import { run } from '../../../lib/cli/list.js';
import {
  ENV,
  executionArn,
  HistoryBuilder,
  KEY_ARN,
  KEY_ID,
  OTHER_KEY_ID,
  observingHistory,
} from './fixtures.js';

const sfnMock = mockClient(SFNClient);
const OBSERVING = executionArn('app-old-20260301T090000');
const REFUSED = executionArn('0987dcba-20260228T120000');

function twoExecutions(): void {
  sfnMock
    .on(ListExecutionsCommand, { nextToken: undefined })
    .resolves({ executions: [{ executionArn: OBSERVING } as never], nextToken: 'p2' })
    .on(ListExecutionsCommand, { nextToken: 'p2' })
    .resolves({ executions: [{ executionArn: REFUSED } as never] });
  sfnMock
    .on(DescribeExecutionCommand, { executionArn: OBSERVING })
    .resolves({
      executionArn: OBSERVING,
      name: 'app-old-20260301T090000',
      status: 'RUNNING',
      input: JSON.stringify({ keyId: KEY_ARN }),
      startDate: new Date('2026-03-01T09:00:00Z'),
    })
    .on(DescribeExecutionCommand, { executionArn: REFUSED })
    .resolves({
      executionArn: REFUSED,
      name: '0987dcba-20260228T120000',
      status: 'FAILED',
      error: 'REFUSED',
      cause: 'RECENTLY_USED: Key was used 3 days ago.',
      input: JSON.stringify({ keyId: OTHER_KEY_ID }),
      startDate: new Date('2026-02-28T12:00:00Z'),
    });
  const refused = new HistoryBuilder(REFUSED, { keyId: OTHER_KEY_ID })
    .pass('Start')
    .lambda('AssessKey', 'assessment', { verdict: 'REFUSED' })
    .choice('IsRefused')
    .enter('Task', 'NotifyRefused')
    .exit('Task', 'NotifyRefused')
    .enter('Fail', 'Refused');
  sfnMock
    .on(GetExecutionHistoryCommand, { executionArn: OBSERVING })
    .resolves({ events: [...observingHistory(OBSERVING).events].reverse().slice(0, 50) })
    .on(GetExecutionHistoryCommand, { executionArn: REFUSED })
    .resolves({ events: [...refused.events].reverse().slice(0, 50) });
}

describe('list', () => {
  afterEach(() => {
    sfnMock.reset();
  });

  it('prints one line per execution of every page: key, phase, started, outcome', async () => {
    // Prepare
    twoExecutions();
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await run([], io);

    // Assess
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^KEY\s+PHASE\s+STARTED\s+OUTCOME\s+EXECUTION$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${KEY_ID}\\s+observing\\s+2026-03-01T09:00:00.000Z\\s+running\\s+app-old-`),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^${OTHER_KEY_ID}\\s+refused\\s+2026-02-28T12:00:00.000Z\\s+REFUSED\\s+`),
    );
    // Only the newest events are read per execution, in reverse order.
    const historyCall = sfnMock.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input;
    expect(historyCall).toMatchObject({ reverseOrder: true, maxResults: 50 });
  });

  it('asks only for running executions with --running and prints JSON', async () => {
    // Prepare
    twoExecutions();
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await run(['--running', '--json'], io);

    // Assess
    expect(code).toBe(0);
    expect(sfnMock.commandCalls(ListExecutionsCommand)[0]?.args[0].input.statusFilter).toBe('RUNNING');
    const listed = JSON.parse(io.out());
    expect(listed).toHaveLength(2);
    expect(listed[1]).toMatchObject({ keyId: OTHER_KEY_ID, outcome: 'REFUSED', phase: 'refused' });
  });

  it('says so when nothing runs', async () => {
    // Prepare
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await run(['--running'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toBe('No running executions.\n');
  });

  it('rejects an unknown option with the usage and exit 2', async () => {
    // Prepare
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await run(['--runing'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain("Unknown option '--runing'");
    expect(io.err()).toContain('Usage: kms-deletion-guard list');
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
