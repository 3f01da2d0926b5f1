import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { handler as approvalHandler } from '../../lambdas/approval/index.js';
import { useRequestHandler } from '../../lambdas/aws/clients.js';
import { MAX_COMMENT_LENGTH } from '../../lambdas/domain/approval-page.js';
import { run as runCandidates } from '../../lib/cli/candidates.js';
import { approve } from '../../lib/cli/decide.js';
import { bufferedIo } from '../../lib/cli/io.js';
import { runSimulateCommand } from '../../lib/cli/simulate.js';
import { run as runStart } from '../../lib/cli/start.js';
import { KeyDeletionGuardConfigError, resolveGuardConfig } from '../../lib/constructs/config.js';
import {
  loadScenarioFile,
  ScenarioError,
  ScenarioFieldNotSupportedError,
  ScenarioUnknownFieldError,
} from '../../lib/simulator/scenario.js';
import { simulate } from '../../lib/simulator/simulate.js';
import { EXECUTION_ARN, FakeExecution, TOKEN } from '../lambdas/approval/fake-execution.js';
import { TestLinkStore } from '../lambdas/approval/link-store.js';
import { KEY_ID as CLI_KEY_ID, ENV } from '../lib/cli/fixtures.js';

/**
 * The bad-input matrix: bad values at every place input enters (execution input, stack
 * configuration, CLI arguments, scenario file, approval endpoint). Each row asserts the named error
 * and its advice, and that nothing changed: no key was disabled or re-tagged, nothing reached AWS,
 * no approval was sent.
 */

const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
const ACCOUNT = '111122223333';
const OWNER_TAGS = { team: 'payments' };

/** Messages are wrapped for e-mail; compare them as one line. */
function flat(text: unknown): string {
  return String(text).replace(/\s+/g, ' ');
}

// --- 1. Execution input, through the real workflow in the simulator --------------------------------

interface InputRow {
  readonly label: string;
  readonly input: unknown;
  readonly key?: Record<string, unknown>;
  readonly cause: string;
  readonly says: RegExp;
}

const INPUT_ROWS: readonly InputRow[] = [
  {
    label: 'an alias name where a key ID is required',
    input: { keyId: 'alias/legacy' },
    cause: 'INVALID_INPUT',
    says: /"alias\/legacy" is an alias; .*aws kms describe-key --key-id alias\/legacy.*kms-deletion-guard start/,
  },
  {
    label: 'an alias ARN where a key ID is required',
    input: { keyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/legacy` },
    cause: 'INVALID_INPUT',
    says: /is an alias; the workflow needs the key ID or key ARN/,
  },
  {
    label: 'a malformed key ARN',
    input: { keyId: `arn:aws:kms:us-east-1:1111:key/${KEY}` },
    cause: 'INVALID_INPUT',
    says: /is not a valid KMS key ARN; give a key ID .* or a key ARN/,
  },
  {
    label: 'a key ARN of another account',
    input: { keyId: `arn:aws:kms:us-east-1:999999999999:key/${KEY}` },
    cause: 'FOREIGN_ACCOUNT',
    says: /belongs to account 999999999999, .*deploy kms-deletion-guard in account 999999999999/,
  },
  {
    label: 'a key ID over 2,048 characters',
    input: { keyId: `${KEY}${'a'.repeat(2048)}` },
    cause: 'INVALID_INPUT',
    says: /2084 characters long; KMS accepts at most 2048/,
  },
  {
    label: 'an empty key ID',
    input: { keyId: '' },
    cause: 'INVALID_INPUT',
    says: /The key identifier is empty/,
  },
  {
    label: 'a misspelt (unknown) field',
    input: { keyId: KEY, obervationDays: 3 },
    cause: 'INVALID_INPUT',
    says: /unknown field "obervationDays"\. Accepted fields: keyId, observationDays, .*; remove or correct the field/,
  },
  {
    label: 'a number given as text',
    input: { keyId: KEY, observationDays: '30' },
    cause: 'INVALID_INPUT',
    says: /"observationDays" is invalid: received the text "30"\. It must be a whole number of days from 1 to 355/,
  },
  {
    label: 'a key ID that is not text',
    input: { keyId: 12345 },
    cause: 'INVALID_INPUT',
    says: /"keyId" is invalid: received number 12345/,
  },
  {
    label: 'input that is not an object',
    input: 'alias/legacy',
    cause: 'INVALID_INPUT',
    says: /must be a JSON object such as \{"keyId": ?"1234abcd/,
  },
  {
    label: 'observationDays out of range (0)',
    input: { keyId: KEY, observationDays: 0 },
    cause: 'INVALID_INPUT',
    says: /"observationDays" is invalid: received number 0/,
  },
  {
    label: 'observation and pending window longer than an execution may run',
    input: { keyId: KEY, observationDays: 340, pendingWindowInDays: 30 },
    cause: 'INVALID_INPUT',
    says: /more than the 365 days an execution may run/,
  },
  {
    label: 'observationDays out of range (366)',
    input: { keyId: KEY, observationDays: 366 },
    cause: 'INVALID_INPUT',
    says: /from 1 to 355/,
  },
  {
    label: 'a pending window KMS refuses (6 days)',
    input: { keyId: KEY, pendingWindowInDays: 6 },
    cause: 'INVALID_INPUT',
    says: /"pendingWindowInDays" is invalid: received number 6\. It must be a whole number of days from 7 to 30/,
  },
  {
    label: 'a pending window KMS refuses (31 days)',
    input: { keyId: KEY, pendingWindowInDays: 31 },
    cause: 'INVALID_INPUT',
    says: /from 7 to 30/,
  },
  {
    label: 'control characters in the key ID',
    input: { keyId: `${KEY}\n` },
    cause: 'INVALID_INPUT',
    says: /contains control characters/,
  },
  {
    label: 'HTML and a control character (terminal escape) in the reason',
    input: { keyId: KEY, reason: '<script>alert(1)</script>\u001b[2J' },
    cause: 'INVALID_INPUT',
    says: /"reason" is invalid: .*other control characters are not/,
  },
  {
    label: 'a line break in requestedBy (header injection into e-mails)',
    input: { keyId: KEY, requestedBy: 'alice\nBcc: mallory@example.com' },
    cause: 'INVALID_INPUT',
    says: /"requestedBy" is invalid: .*without control characters/,
  },
  {
    label: 'an AWS-managed key',
    input: { keyId: KEY },
    key: { manager: 'AWS' },
    cause: 'AWS_MANAGED_KEY',
    says: /AWS_MANAGED_KEY/,
  },
  {
    label: 'a key already pending deletion',
    input: { keyId: KEY },
    key: { state: 'PendingDeletion' },
    cause: 'PENDING_DELETION',
    says: /PENDING_DELETION/,
  },
  {
    label: 'a well-formed key ID no key has',
    input: { keyId: '0000aaaa-00aa-00aa-00aa-000000aaaaaa' },
    cause: 'KEY_NOT_FOUND',
    says: /KEY_NOT_FOUND/,
  },
];

describe('bad input: execution input (real workflow, simulated account)', () => {
  it.each(INPUT_ROWS)('$label: REFUSED $cause, nothing changed', async (row) => {
    // Prepare
    const key: Record<string, unknown> = {
      keyId: KEY,
      createdAt: '2024-01-01T00:00:00Z',
      tags: OWNER_TAGS,
      ...row.key,
    };
    let after: { state?: string; tags?: Readonly<Record<string, string>>; writes: string[] } = { writes: [] };

    // Act
    const result = await simulate(
      { name: row.label, start: '2026-01-01T00:00:00Z', keys: [key], input: row.input },
      {
        inspect: (account) => {
          const snapshot = account.inspectKey(KEY);
          after = {
            state: snapshot?.state,
            tags: snapshot?.tags,
            writes: account
              .records()
              .filter((e) => e.workflow && e.record.readOnly === false)
              .map((e) => e.record.eventName),
          };
        },
      },
    );

    // Assess
    expect(result.outcome).toBe('REFUSED');
    expect(result.cause).toBe(row.cause);
    expect(result.notifications.map((n) => n.kind)).toEqual(['refused']);
    expect(flat(result.notifications[0]?.message)).toMatch(row.says);
    expect(flat(result.notifications[0]?.message)).toContain('nothing was changed');
    expect(result.timeline.map((t) => t.state)).not.toContain('DisableKey');
    expect(after.writes).toEqual([]);
    // The world goes on to a scheduled DeletionDate, where KMS (not the workflow) deletes the key.
    expect(after.state).toBe(key.state === 'PendingDeletion' ? 'Deleted' : (key.state ?? 'Enabled'));
    expect(after.tags).toEqual(OWNER_TAGS);
  });
});

// --- 2. Stack configuration -----------------------------------------------------------------------

const SOURCE = { cloudTrailLogGroupName: 'aws-cloudtrail-logs' };

const CONFIG_ROWS: ReadonlyArray<{ label: string; config: unknown; says: RegExp }> = [
  {
    label: 'observationDays out of range',
    config: { ...SOURCE, observationDays: 0 },
    says: /observationDays must be a whole number of days from 1 to 355; received 0/,
  },
  {
    label: 'a pending window KMS refuses',
    config: { ...SOURCE, pendingWindowInDays: 31 },
    says: /pendingWindowInDays must be a whole number of days .* from 7 to 30; received 31/,
  },
  {
    label: 'a number given as text',
    config: { ...SOURCE, checkIntervalHours: '6' },
    says: /checkIntervalHours must be a whole number of hours from 1 to 24; received "6"/,
  },
  {
    label: 'an unknown (misspelt) field',
    config: { ...SOURCE, observationDay: 30 },
    says: /Unknown configuration field "observationDay"\. Did you mean "observationDays"\? Known fields: .*observationDays/,
  },
  {
    label: 'one e-mail address instead of a list',
    config: { ...SOURCE, approvalEmails: 'ops@example.com' },
    says: /approvalEmails must be a list of e-mail addresses such as \["ops@example.com"\]/,
  },
  {
    label: 'an e-mail address with HTML in it',
    config: { ...SOURCE, approvalEmails: ['<b>ops</b>@example.com'] },
    says: /approvalEmails must be a list of e-mail addresses/,
  },
  {
    label: 'no CloudTrail source at all',
    config: {},
    says: /No CloudTrail source: set cloudTrailLogGroupName .* or set createTrail: true/,
  },
  {
    label: 'both a log group and createTrail',
    config: { ...SOURCE, createTrail: true },
    says: /Give either cloudTrailLogGroupName .* or createTrail: true, not both/,
  },
  {
    label: 'a tag condition on an aws: tag key',
    config: { ...SOURCE, keyTagCondition: { key: 'aws:cloudformation:stack-name', value: 'x' } },
    says: /keyTagCondition must be .* \(not aws:\)/,
  },
  {
    label: 'a tag condition with an empty value',
    config: { ...SOURCE, keyTagCondition: { key: 'retire', value: '' } },
    says: /keyTagCondition must be .* a non-empty value .*: the value is missing or empty/,
  },
  {
    label: 'null for a number',
    config: { ...SOURCE, observationDays: null },
    says: /observationDays must be a whole number of days from 1 to 355; received null\./,
  },
  {
    label: 'a configuration that is not an object',
    config: ['observationDays', 30],
    says: /configuration must be an object/,
  },
];

describe('bad input: stack configuration (checked at synth, before anything is deployed)', () => {
  it.each(CONFIG_ROWS)('$label: KeyDeletionGuardConfigError that says what to do', ({ config, says }) => {
    // Act
    const act = () => resolveGuardConfig(config);

    // Assess
    expect(act).toThrow(KeyDeletionGuardConfigError);
    expect(act).toThrow(says);
  });

  it('a scenario with a bad configuration fails as a one-line ScenarioError before anything runs', async () => {
    // Act
    const run = simulate({
      name: 'bad config',
      start: '2026-01-01T00:00:00Z',
      keys: [{ keyId: KEY, createdAt: '2024-01-01T00:00:00Z' }],
      input: { keyId: KEY },
      config: { observationDays: 400 },
    });

    // Assess
    await expect(run).rejects.toThrow(ScenarioError);
    await expect(run).rejects.toThrow(
      /^config: observationDays must be a whole number of days from 1 to 355/,
    );
  });

  it('an empty approvalEmails list is accepted on purpose: the CLI and the approval page answer approvals', () => {
    // Act
    const config = resolveGuardConfig({ ...SOURCE, approvalEmails: [] });

    // Assess
    // Approval requests are found with `kms-deletion-guard list`/`status` and answered with
    // `approve`/`reject` (or the page the CLI prints): e-mail is one route, not the only one.
    expect(config.approvalEmails).toEqual([]);
  });
});

// --- 3. CLI arguments -----------------------------------------------------------------------------

interface CliRow {
  readonly label: string;
  readonly command: typeof runStart;
  readonly argv: readonly string[];
  readonly exit: number;
  readonly says: RegExp;
}

const CLI_ROWS: readonly CliRow[] = [
  {
    label: 'start with a key argument that is no key',
    command: runStart,
    argv: ['my-key!'],
    exit: 2,
    says: /"my-key!" is not a key ID; give a key ID/,
  },
  {
    label: 'start with a key ID over 2,048 characters',
    command: runStart,
    argv: ['k'.repeat(2049)],
    exit: 2,
    says: /2049 characters long; KMS accepts at most 2048/,
  },
  {
    label: 'start with a malformed key ARN',
    command: runStart,
    argv: ['arn:aws:kms:eu-west-1:111122223333:key/not-a-key'],
    exit: 2,
    says: /is not a valid KMS key ARN/,
  },
  {
    label: 'start with a key ARN of another account',
    command: runStart,
    argv: [`arn:aws:kms:eu-west-1:999999999999:key/${CLI_KEY_ID}`],
    exit: 1,
    says: /belongs to account 999999999999, but this workflow runs in account 111122223333/,
  },
  {
    label: 'start with observation days out of range',
    command: runStart,
    argv: [CLI_KEY_ID, '--observation-days', '0'],
    exit: 2,
    says: /--observation-days must be a whole number from 1 to 355 .*; received "0"/,
  },
  {
    label: 'start with a pending window KMS refuses',
    command: runStart,
    argv: [CLI_KEY_ID, '--pending-window-days', '45'],
    exit: 2,
    says: /--pending-window-days must be a whole number from 7 to 30/,
  },
  {
    label: 'start with a terminal escape in the reason',
    command: runStart,
    argv: [CLI_KEY_ID, '--reason', 'cleanup\u001b[2J'],
    exit: 2,
    says: /--reason contains control characters other than line breaks and tabs; remove them/,
  },
  {
    label: 'start with a line break in requested-by',
    command: runStart,
    argv: [CLI_KEY_ID, '--requested-by', 'alice\nbob'],
    exit: 2,
    says: /--requested-by contains control characters \(such as a line break\)/,
  },
  {
    label: 'start with a misspelt option',
    command: runStart,
    argv: [CLI_KEY_ID, '--obervation-days', '3'],
    exit: 2,
    says: /Unknown option '--obervation-days'.*Usage: kms-deletion-guard start/,
  },
  {
    label: 'candidates with a non-numeric idle period',
    command: runCandidates,
    argv: ['--min-idle-days', 'ninety'],
    exit: 2,
    says: /--min-idle-days must be a whole number from 0 to 3650/,
  },
  {
    label: 'approve without an execution',
    command: approve,
    argv: [],
    exit: 2,
    says: /Missing argument\. Usage: kms-deletion-guard approve/,
  },
];

describe('bad input: CLI arguments (refused before any AWS call)', () => {
  let sfn: AwsClientStub<SFNClient>;
  let kms: AwsClientStub<KMSClient>;

  beforeAll(() => {
    sfn = mockClient(SFNClient);
    kms = mockClient(KMSClient);
  });

  afterAll(() => {
    sfn.restore();
    kms.restore();
  });

  it.each(CLI_ROWS)('$label: exit $exit with one line that says what to do', async (row) => {
    // Prepare
    const io = bufferedIo({ env: ENV });

    // Act
    const code = await row.command(row.argv, io);

    // Assess
    expect(code).toBe(row.exit);
    expect(io.err()).toMatch(/^kms-deletion-guard: .+\n$/);
    expect(io.err().trimEnd().split('\n')).toHaveLength(1);
    expect(io.err()).toMatch(row.says);
    expect(sfn.calls()).toHaveLength(0);
    expect(kms.calls()).toHaveLength(0);
  });
});

// --- 4. Scenario file -----------------------------------------------------------------------------

const VALID_SCENARIO = {
  name: 'x',
  start: '2026-01-01T00:00:00Z',
  keys: [{ keyId: KEY, createdAt: '2024-01-01T00:00:00Z' }],
  input: { keyId: KEY },
};

const SCENARIO_ROWS: ReadonlyArray<{
  label: string;
  text: string;
  says: RegExp;
  /** The named error, where it is more precise than ScenarioError. */
  error?: abstract new (
    ...args: never[]
  ) => ScenarioError;
}> = [
  { label: 'not JSON', text: '{ "name": "x", ', says: /^not valid JSON \(/ },
  {
    label: 'no keys',
    text: JSON.stringify({ name: 'x', start: '2026-01-01T00:00:00Z' }),
    says: /^keys is required$/,
  },
  {
    label: 'a bad time offset',
    text: JSON.stringify({
      ...VALID_SCENARIO,
      calls: [{ at: '+P1X', keyId: KEY, operation: 'Decrypt', principal: 'p' }],
    }),
    says: /^calls\[0\]\.at: '\+P1X' is not an ISO-8601 instant .* or an offset from start/,
  },
  {
    label: 'an unknown approval answer',
    text: JSON.stringify({ ...VALID_SCENARIO, approvals: { disable: 'yes' } }),
    says: /^approvals\.disable must be one of "approve", "reject", "timeout"$/,
  },
  {
    label: 'a wrong type',
    text: JSON.stringify({ ...VALID_SCENARIO, keys: 'all' }),
    says: /^keys must be array$/,
  },
  {
    label: 'a misspelt key field (lastUse would make a used key look never used)',
    text: JSON.stringify({
      ...VALID_SCENARIO,
      keys: [{ ...VALID_SCENARIO.keys[0], lastUse: { operation: 'Decrypt', at: '-P3D' } }],
    }),
    says: /^keys\[0\]\.lastUse: unknown field; did you mean lastUsage\?$/,
    error: ScenarioUnknownFieldError,
  },
  {
    label: 'a misspelt call field',
    text: JSON.stringify({
      ...VALID_SCENARIO,
      calls: [{ at: '+P1D', keyId: KEY, operation: 'Decrypt', principal: 'p', deliveryLeg: 'PT1H' }],
    }),
    says: /^calls\[0\]\.deliveryLeg: unknown field; did you mean deliveryLag\?$/,
    error: ScenarioUnknownFieldError,
  },
  {
    label: 'an unknown top-level field',
    text: JSON.stringify({ ...VALID_SCENARIO, observationDays: 3 }),
    says: /^observationDays: unknown field; the fields here are name, start, .*, faults$/,
    error: ScenarioUnknownFieldError,
  },
  {
    label: 'a fault of a service the simulator does not inject faults into',
    text: JSON.stringify({ ...VALID_SCENARIO, faults: [{ service: 'events', operation: '*', error: 'X' }] }),
    says: /^faults\[0\]\.service: the simulator does not model 'events' faults yet; remove the fault/,
    error: ScenarioFieldNotSupportedError,
  },
];

describe('bad input: scenario file (the only kind that fails `simulate`)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kdg-bad-scenario-'));

  it.each(SCENARIO_ROWS)('$label: one-line ScenarioError, exit 1', async ({ label, text, says, error }) => {
    // Prepare
    const file = join(dir, `${label.replaceAll(' ', '-')}.json`);
    writeFileSync(file, text);
    const io = bufferedIo();

    // Act
    const load = () => loadScenarioFile(file);
    const code = await runSimulateCommand([file], io);

    // Assess
    expect(load).toThrow(error ?? ScenarioError);
    expect(load).toThrow(says);
    expect(code).toBe(1);
    expect(io.err().trimEnd().split('\n')).toHaveLength(1);
    expect(io.err()).toContain(file);
    expect(io.out()).toBe('');
  });
});

// --- 5. Approval endpoint -------------------------------------------------------------------------

function get(query: Record<string, string> | null): Record<string, unknown> {
  return {
    httpMethod: 'GET',
    path: '/',
    queryStringParameters: query,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { identity: { sourceIp: '198.51.100.7', userAgent: 'test' } },
  };
}

function post(fields: Record<string, string>): Record<string, unknown> {
  return {
    ...get(null),
    httpMethod: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

const DISABLE_TOKEN = 'AQCEAAAAdisable+step/token/AAAA=';

/**
 * History of an execution whose disable approval was answered and whose deletion approval now
 * waits: the disable step's token must not answer the deletion step.
 */
function secondApprovalHistory(): HistoryEvent[] {
  const disable = new FakeExecution({ step: 'disable', token: DISABLE_TOKEN });
  disable.succeed({ taskToken: DISABLE_TOKEN, output: '{}' });
  const deletion = new FakeExecution({ step: 'deletion', token: TOKEN });
  const events = [...disable.events, ...deletion.events.slice(1)];
  // Each event follows the one before it (a TaskScheduled follows its TaskStateEntered).
  return events.map((event, i) => ({ ...event, id: i + 1, previousEventId: i }));
}

/** Each row gets a fresh link of the pending disable approval (`link`), as the request function issues it. */
const APPROVAL_ROWS: readonly {
  readonly label: string;
  readonly event: (link: string) => Record<string, unknown>;
  readonly status: number;
  readonly says: RegExp;
}[] = [
  {
    label: 'a link without parameters',
    event: () => get(null),
    status: 400,
    says: /no approval code/,
  },
  {
    label: 'HTML in the link',
    event: () => get({ link: '<script>alert(1)</script>' }),
    status: 400,
    says: /not one this page issued/,
  },
  {
    label: 'the task token where the link secret belongs',
    event: () => get({ link: TOKEN }),
    status: 400,
    says: /not one this page issued/,
  },
  {
    label: 'the execution and its task token, as a link carried them before',
    event: () => get({ execution: EXECUTION_ARN, token: TOKEN }),
    status: 400,
    says: /no approval code/,
  },
  {
    label: 'a form without a decision',
    event: (link) => post({ link }),
    status: 400,
    says: /Choose Approve or Reject/,
  },
  {
    label: 'a comment over the limit',
    event: (link) =>
      post({
        link,
        decision: 'approve',
        comment: 'x'.repeat(MAX_COMMENT_LENGTH + 1),
      }),
    status: 400,
    says: new RegExp(`at most ${MAX_COMMENT_LENGTH} characters`),
  },
  {
    label: 'a link the store does not hold',
    event: () => post({ link: 'A'.repeat(43), decision: 'approve' }),
    status: 404,
    says: /Approval request not found/,
  },
];

describe('bad input: approval endpoint (4xx page, nothing decided)', () => {
  let sfn: AwsClientStub<SFNClient>;
  let store: TestLinkStore;
  let previousTable: string | undefined;

  beforeAll(async () => {
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    // The simulations above route the handlers' clients into their emulator: this section's link
    // store is a DynamoDB of its own, reached over its endpoint.
    useRequestHandler(undefined);
    previousTable = process.env.KDG_APPROVAL_LINKS_TABLE;
    process.env.KDG_APPROVAL_LINKS_TABLE = 'bad-input-links';
    store = await TestLinkStore.start('bad-input-links');
    sfn = mockClient(SFNClient);
  });

  afterEach(() => {
    sfn.reset();
  });

  afterAll(async () => {
    sfn.restore();
    await store.close();
    process.env.KDG_APPROVAL_LINKS_TABLE = previousTable;
  });

  function decisionsSent(): number {
    return sfn.commandCalls(SendTaskSuccessCommand).length + sfn.commandCalls(SendTaskFailureCommand).length;
  }

  it.each(APPROVAL_ROWS)(
    '$label: $status, escaped page, nothing decided',
    async ({ event, status, says }) => {
      // Prepare
      new FakeExecution().install(sfn);
      const link = await store.issue();

      // Act
      const result = await approvalHandler(event(link));

      // Assess
      expect(result.statusCode).toBe(status);
      expect(result.body).toMatch(says);
      expect(result.body).not.toContain('<script>alert');
      expect(result.body).not.toMatch(/\bat .*\.ts:\d+/);
      expect(decisionsSent()).toBe(0);
      expect((await store.recordOf(link))?.usedAt).toBeUndefined();
    },
  );

  it('a link whose token belongs to no approval of the execution: 404, nothing decided', async () => {
    // Prepare
    new FakeExecution().install(sfn);
    const link = await store.issue({ taskToken: 'AQCEAAAAother+token/AAAA=' });

    // Act
    const result = await approvalHandler(post({ link, decision: 'approve' }));

    // Assess
    expect(result.statusCode).toBe(404);
    expect(result.body).toMatch(/Approval request not found/);
    expect(decisionsSent()).toBe(0);
  });

  it('answered twice: the second answer gets 409 and sends nothing', async () => {
    // Prepare
    const execution = new FakeExecution().install(sfn);
    const form = { link: await store.issue(), decision: 'approve', by: 'alice' };
    await approvalHandler(post(form));

    // Act
    const second = await approvalHandler(post({ ...form, decision: 'reject' }));

    // Assess
    expect(second.statusCode).toBe(409);
    expect(second.body).toContain('Already decided');
    expect(execution.successes).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('answered after the approval timed out: 410 saying when it expired, and nothing sent', async () => {
    // Prepare
    new FakeExecution().install(sfn).end('ExecutionFailed', new Date('2026-02-08T09:00:00.000Z'));
    const link = await store.issue();

    // Act
    const result = await approvalHandler(post({ link, decision: 'approve' }));

    // Assess
    expect(result.statusCode).toBe(410);
    expect(result.body).toContain('expired at 2026-02-08T09:00:00.000Z; nothing was changed by this answer');
    expect(result.body).toContain('start a new execution');
    expect(decisionsSent()).toBe(0);
  });

  it('answered for the wrong step (the disable link while the deletion waits): 409 and nothing sent', async () => {
    // Prepare
    const events = secondApprovalHistory();
    sfn.on(GetExecutionHistoryCommand).callsFake((input: { reverseOrder?: boolean }) => ({
      events: input.reverseOrder ? [...events].reverse() : events,
    }));
    const disableLink = await store.issue({ taskToken: DISABLE_TOKEN, step: 'disable' });
    const deletionLink = await store.issue({ taskToken: TOKEN, step: 'deletion' });

    // Act
    const result = await approvalHandler(post({ link: disableLink, decision: 'approve' }));
    const pending = await approvalHandler(get({ link: deletionLink }));

    // Assess
    expect(pending.statusCode).toBe(200);
    expect(result.statusCode).toBe(409);
    expect(result.body).toContain('already decided');
    expect(decisionsSent()).toBe(0);
  });

  it('HTML and control characters in the name: stripped of controls, escaped on the page', async () => {
    // Prepare
    const execution = new FakeExecution().install(sfn);

    // Act
    const result = await approvalHandler(
      post({
        link: await store.issue(),
        decision: 'approve',
        by: '<img src=x onerror=alert(1)>\u0007\u001b[2J',
        comment: '<b>ok</b>\u0000',
      }),
    );

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.body).not.toContain('<img src=x');
    expect(result.body).not.toContain('\u001b');
    const output = JSON.parse(execution.successes[0]?.output ?? '{}') as { by?: string; comment?: string };
    expect(output.by).toBe('<img src=x onerror=alert(1)>[2J');
    expect(output.comment).toBe('<b>ok</b>');
  });
});

describe('bad-input matrix', () => {
  it('has at least 25 rows across the five entry points', () => {
    // Act
    const rows =
      INPUT_ROWS.length +
      CONFIG_ROWS.length +
      CLI_ROWS.length +
      SCENARIO_ROWS.length +
      APPROVAL_ROWS.length +
      4;

    // Assess
    expect(rows).toBeGreaterThanOrEqual(25);
  });
});
