import { DescribeKeyCommand, KMSClient, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { bufferedIo } from '../../../lib/cli/io.js';
import { executionName, run } from '../../../lib/cli/start.js';
import { ENV, executionArn, KEY_ARN, KEY_ID, OTHER_KEY_ID, REGION, STATE_MACHINE_ARN } from './fixtures.js';

const sfnMock = mockClient(SFNClient);
const kmsMock = mockClient(KMSClient);
const NOW = new Date('2026-03-15T10:15:30.123Z');

function keyExists(): void {
  kmsMock.on(DescribeKeyCommand).resolves({
    KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: 'Enabled', KeyManager: 'CUSTOMER' },
  });
  kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [], Truncated: false });
}

function started(name: string): void {
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: executionArn(name), startDate: NOW });
}

describe('executionName', () => {
  it('uses the alias and the UTC time, with only the characters Step Functions accepts', () => {
    // Act
    const name = executionName('alias/team/app.key!', KEY_ID, NOW);

    // Assess
    expect(name).toBe('team-app-key-20260315T101530');
  });

  it('uses the start of the key ID without an alias and stays within 80 characters for long aliases', () => {
    // Act
    const short = executionName(null, KEY_ID, NOW);
    const long = executionName(`alias/${'x'.repeat(200)}`, KEY_ID, NOW);

    // Assess
    expect(short).toBe('1234abcd-20260315T101530');
    expect(long.length).toBeLessThanOrEqual(80);
    expect(long).toMatch(/^[A-Za-z0-9_-]+-20260315T101530$/);
  });
});

describe('start', () => {
  afterEach(() => {
    sfnMock.reset();
    kmsMock.reset();
  });

  it('resolves an alias to the key ARN, says so, and starts with the ARN in the input', async () => {
    // Prepare
    keyExists();
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    started('app-old-20260315T101530');
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run(['alias/app-old', '--observation-days', '45', '--reason', 'app retired'], io);

    // Assess
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out()).toContain(`Resolved alias alias/app-old to key ${KEY_ARN}.`);
    expect(kmsMock.commandCalls(DescribeKeyCommand)[0]?.args[0].input.KeyId).toBe('alias/app-old');
    const startInput = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(startInput?.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(startInput?.name).toBe('app-old-20260315T101530');
    expect(JSON.parse(startInput?.input ?? '')).toEqual({
      keyId: KEY_ARN,
      observationDays: 45,
      requestedBy: 'alice',
      reason: 'app retired',
    });
    const arn = executionArn('app-old-20260315T101530');
    expect(io.out()).toContain(`Execution: ${arn}`);
    expect(io.out()).toContain(
      `https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/${arn}`,
    );
  });

  it('refuses a key that already has a running execution, found on a later page', async () => {
    // Prepare
    keyExists();
    const other = executionArn('other-20260301T000000');
    const same = executionArn('1234abcd-20260310T000000');
    sfnMock
      .on(ListExecutionsCommand, { statusFilter: 'RUNNING', nextToken: undefined })
      .resolves({ executions: [{ executionArn: other } as never], nextToken: 'page-2' })
      .on(ListExecutionsCommand, { statusFilter: 'RUNNING', nextToken: 'page-2' })
      .resolves({ executions: [{ executionArn: same } as never] });
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: other })
      .resolves({ executionArn: other, status: 'RUNNING', input: JSON.stringify({ keyId: OTHER_KEY_ID }) })
      .on(DescribeExecutionCommand, { executionArn: same })
      .resolves({ executionArn: same, status: 'RUNNING', input: JSON.stringify({ keyId: KEY_ID }) });
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run([KEY_ARN], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toBe(
      `kms-deletion-guard: Key ${KEY_ARN} already has a running execution (${same}); two executions on one key ` +
        `would undo each other. Follow it with \`npx kms-deletion-guard status ${same}\`, or stop it first.\n`,
    );
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses a key whose hold tag names a running execution the input scan did not match', async () => {
    // Prepare
    keyExists();
    const holder = executionArn('legacy-run');
    kmsMock.on(ListResourceTagsCommand).resolves({
      Tags: [
        { TagKey: 'kms-deletion-guard:execution', TagValue: holder },
        { TagKey: 'kms-deletion-guard:status', TagValue: 'disabled' },
      ],
    });
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: holder })
      .resolves({ executionArn: holder, status: 'RUNNING' });
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run([KEY_ID, '--json'], io);

    // Assess
    expect(code).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ error: { name: 'ExecutionAlreadyRunningError' } });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('starts when the hold tag names an execution that has ended', async () => {
    // Prepare
    keyExists();
    const holder = executionArn('old-run');
    kmsMock.on(ListResourceTagsCommand).resolves({
      Tags: [{ TagKey: 'kms-deletion-guard:execution', TagValue: holder }],
    });
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
    sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: holder, status: 'FAILED' });
    started('1234abcd-20260315T101530');
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run([KEY_ID, '--json', '--requested-by', 'ops team'], io);

    // Assess
    expect(code).toBe(0);
    const result = JSON.parse(io.out());
    expect(result).toMatchObject({
      executionArn: executionArn('1234abcd-20260315T101530'),
      keyArn: KEY_ARN,
      resolvedAlias: null,
      input: { keyId: KEY_ARN, requestedBy: 'ops team' },
    });
  });

  it.each([
    [['--observation-days', '0'], '--observation-days must be a whole number from 1 to 355'],
    [['--observation-days', '356'], '--observation-days must be a whole number from 1 to 355'],
    [['--observation-days', '2.5'], '--observation-days must be a whole number from 1 to 355'],
    [['--pending-window-days', '6'], '--pending-window-days must be a whole number from 7 to 30'],
    [['--pending-window-days', '31'], '--pending-window-days must be a whole number from 7 to 30'],
  ])('rejects %j before any AWS call', async (options, message) => {
    // Prepare
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run([KEY_ID, ...options], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain(message);
    expect(kmsMock.calls()).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('names the stack output when the state machine is not given, as a usage error', async () => {
    // Prepare
    const io = bufferedIo({ env: { AWS_REGION: REGION }, now: () => NOW });

    // Act
    const code = await run([KEY_ID], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toContain('--state-machine-arn or set KDG_STATE_MACHINE_ARN');
    expect(io.err()).toContain("OutputKey=='StateMachineArn'");
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('rejects a malformed key identifier with the accepted forms, before any call', async () => {
    // Prepare
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run(['not-a-key'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toMatch(/^kms-deletion-guard: .*key ID/);
    expect(kmsMock.calls()).toHaveLength(0);
  });

  it('says clearly when the alias does not exist', async () => {
    // Prepare
    kmsMock
      .on(DescribeKeyCommand)
      .rejects(Object.assign(new Error('Alias not found'), { name: 'NotFoundException' }));
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run(['alias/missing'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain(`KMS finds no key alias/missing in ${REGION}`);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('refuses a key ARN of another account than the workflow', async () => {
    // Prepare
    const io = bufferedIo({ env: ENV, now: () => NOW });

    // Act
    const code = await run([`arn:aws:kms:${REGION}:999999999999:key/${KEY_ID}`], io);

    // Assess
    expect(code).toBe(1);
    expect(io.err()).toContain('ForeignAccountKeyError');
    expect(kmsMock.calls()).toHaveLength(0);
  });
});
