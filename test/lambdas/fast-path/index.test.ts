import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  KMSClient,
  KMSInvalidStateException,
  ListResourceTagsCommand,
  NotFoundException,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.AWS_REGION = 'us-east-1';
  process.env.KDG_TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:guard-topic';
  process.env.KDG_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:Guard';
  process.env.KDG_WORKFLOW_PRINCIPALS =
    'arn:aws:iam::111122223333:role/GuardCheckRole,arn:aws:iam::111122223333:role/GuardDisableRole';
});

import { FAST_PATH_TAGS } from '../../../lambdas/contracts/tags.js';
import { claimHold, type HoldRecord, nextHold } from '../../../lambdas/domain/hold-record.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { handler } from '../../../lambdas/fast-path/index.js';
import { commandNames, disabledDecryptRecord, heldTags, holdRecord } from '../fixtures.js';
import { type HoldTable, startHoldTable } from '../hold-table.js';

const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:Guard:run-1';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const OTHER_KEY_ID = '0000abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${OTHER_KEY_ID}`;
const APP = 'arn:aws:iam::111122223333:role/billing-app';
const NOW = new Date('2026-02-12T06:02:00.000Z');

const kms = mockClient(KMSClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);

let table: HoldTable;

interface FakeKey {
  state: string;
  tags: Record<string, string>;
}

function fakeKms(key: FakeKey): FakeKey {
  kms.on(DescribeKeyCommand).callsFake(() => ({
    KeyMetadata: { KeyId: KEY_ID, Arn: KEY_ARN, KeyState: key.state, KeyManager: 'CUSTOMER' },
  }));
  kms.on(ListResourceTagsCommand).callsFake(() => ({
    Tags: Object.entries(key.tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    Truncated: false,
  }));
  kms.on(TagResourceCommand).callsFake((input: { Tags: { TagKey: string; TagValue: string }[] }) => {
    if (key.state === 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is pending deletion.`, $metadata: {} });
    }
    for (const tag of input.Tags) key.tags[tag.TagKey] = tag.TagValue;
    return {};
  });
  kms.on(EnableKeyCommand).callsFake(() => {
    key.state = 'Enabled';
    return {};
  });
  kms.on(CancelKeyDeletionCommand).callsFake(() => {
    if (key.state !== 'PendingDeletion') {
      throw new KMSInvalidStateException({ message: `${KEY_ARN} is not pending deletion.`, $metadata: {} });
    }
    key.state = 'Disabled';
    return { KeyId: KEY_ARN };
  });
  return key;
}

function held(status: string): Record<string, string> {
  return heldTags(status, { execution: EXECUTION });
}

/** The registry's record of EXECUTION's hold on the key, in `phase`. */
function hold(phase: HoldRecord['phase'], options: Parameters<typeof holdRecord>[1] = {}): HoldRecord {
  return holdRecord(phase, { execution: EXECUTION, keyArn: KEY_ARN, ...options });
}

function kmsEvent(detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: 'evt-1',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account: '111122223333',
    time: '2026-02-12T06:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { ...disabledDecryptRecord(), ...detail },
  };
}

function changes(): string[] {
  return commandNames(kms).filter(
    (name) => name !== 'DescribeKeyCommand' && name !== 'ListResourceTagsCommand',
  );
}

describe('fast-path handler', () => {
  beforeAll(async () => {
    table = await startHoldTable();
  });

  afterAll(async () => {
    await table.close();
  });

  beforeEach(async () => {
    await table.clear();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  afterEach(() => {
    kms.reset();
    sfn.reset();
    sns.reset();
    vi.useRealTimers();
  });

  it('re-enables a key the workflow disabled within minutes, records the rollback, mirrors it on the tags and e-mails it', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(hold('watching'));

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys).toEqual([expect.objectContaining({ keyArn: KEY_ARN, action: 'EnableKey' })]);
    expect(changes()).toEqual(['EnableKeyCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Enabled');
    expect(key.tags).toMatchObject({
      [TAGS.status]: 'rolled-back',
      [TAGS.evidence]: '1 record first ev-1 at 2026-02-12T06:00:00Z',
      [FAST_PATH_TAGS.caller]: APP,
    });
    expect(await table.read()).toMatchObject({
      phase: 'ended',
      claim: { actor: 'fast-path', nonce: 'ev-1', from: 'watching' },
      end: {
        by: 'fast-path',
        status: 'rolled-back',
        at: NOW.toISOString(),
        actions: ['EnableKey'],
        finalKeyState: 'Enabled',
        evidenceEventIds: ['ev-1'],
        evidence: { eventID: 'ev-1', principal: APP },
        notified: true,
        tampering: [],
      },
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({ executionArn: EXECUTION });
    const [publish] = sns.commandCalls(PublishCommand);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(publish?.args[0].input).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:guard-topic',
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'rolled-back' },
        execution: { DataType: 'String', StringValue: EXECUTION },
      },
    });
    expect(publish?.args[0].input.Subject).toContain('alias/billing');
    expect(publish?.args[0].input.Message).toContain(APP);
    expect(publish?.args[0].input.Message).toContain('10.1.2.3');
  });

  it('cancels a deletion the workflow scheduled and leaves the key Disabled', async () => {
    // Prepare: the failure came after the deletion was scheduled (the pending window).
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await table.seed(hold('pending-deletion', { scheduledAt: '2026-02-10T00:00:00.000Z' }));

    // Act
    const report = await handler(
      kmsEvent({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` }),
    );

    // Assess
    expect(report.keys[0]?.action).toBe('CancelKeyDeletion');
    expect(changes()).toEqual(['CancelKeyDeletionCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Disabled');
    expect(key.tags[TAGS.status]).toBe('deletion-cancelled');
    expect((await table.read())?.end).toMatchObject({
      status: 'deletion-cancelled',
      actions: ['CancelKeyDeletion'],
    });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes?.kind?.StringValue).toBe(
      'deletion-cancelled',
    );
  });

  it('cancels the deletion and re-enables the key when the caller failed before the deletion was scheduled', async () => {
    // Prepare: the DisabledException of 06:00 reaches the fast path after ScheduleDeletion finished at 06:01.
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await table.seed(hold('pending-deletion', { scheduledAt: '2026-02-12T06:01:00.000Z' }));

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.action).toBe('EnableKey');
    expect(changes()).toEqual(['CancelKeyDeletionCommand', 'EnableKeyCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Enabled');
    expect((await table.read())?.end?.status).toBe('rolled-back');
  });

  it('cancels a deletion someone else scheduled on a key it holds when a caller fails; the key stays Disabled', async () => {
    // Prepare: a person scheduled the deletion while the execution watched the key.
    const key = fakeKms({ state: 'PendingDeletion', tags: held('disabled') });
    await table.seed(hold('watching'));

    // Act
    const report = await handler(
      kmsEvent({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` }),
    );

    // Assess
    expect(report.keys[0]?.action).toBe('CancelKeyDeletion');
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(0);
    expect(key.state).toBe('Disabled');
    expect((await table.read())?.end).toMatchObject({ status: 'deletion-cancelled', by: 'fast-path' });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('never enables or un-schedules a key carrying forged hold tags: the registry holds no hold for it', async () => {
    // Prepare: tags of a running execution (which holds another key) copied onto a key a person
    // disabled on purpose, and onto one a person scheduled for deletion.
    await table.seed(hold('watching'));
    const forged = { ...held('disabled'), [TAGS.wasEnabled]: 'true' };
    kms.on(EnableKeyCommand).rejects(new Error('EnableKey must not be called'));
    kms.on(CancelKeyDeletionCommand).rejects(new Error('CancelKeyDeletion must not be called'));
    kms.on(DescribeKeyCommand).resolves({
      KeyMetadata: { KeyId: OTHER_KEY_ID, Arn: OTHER_KEY_ARN, KeyState: 'Disabled', KeyManager: 'CUSTOMER' },
    });
    kms.on(ListResourceTagsCommand).resolves({
      Tags: Object.entries(forged).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    });
    const onOtherKey = { resources: [{ ARN: OTHER_KEY_ARN }], errorMessage: `${OTHER_KEY_ARN} is disabled.` };

    // Act
    const disabled = await handler(kmsEvent(onOtherKey));
    const pending = await handler(
      kmsEvent({
        ...onOtherKey,
        errorCode: 'KMSInvalidStateException',
        errorMessage: `${OTHER_KEY_ARN} is pending deletion.`,
      }),
    );

    // Assess
    for (const report of [disabled, pending]) {
      expect(report.keys).toEqual([
        expect.objectContaining({
          keyArn: OTHER_KEY_ARN,
          action: 'NONE',
          reason: expect.stringMatching(/records no hold/),
        }),
      ]);
    }
    expect(kms.calls()).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(await table.read(OTHER_KEY_ARN)).toBeNull();
    expect((await table.read())?.phase).toBe('watching');
  });

  it.each([
    ['a key a person disabled (no hold recorded)', null, { state: 'Disabled', tags: { team: 'billing' } }],
    [
      'a key whose hold ended',
      nextHold(hold('watching'), { phase: 'ended' }, NOW),
      { state: 'Enabled', tags: held('rolled-back') },
    ],
    ['a hold still being taken', hold('disabling'), { state: 'Disabled', tags: held('disabling') }],
    [
      'a key that was Disabled before the execution',
      hold('watching', { wasEnabled: false }),
      { state: 'Disabled', tags: held('disabled') },
    ],
    ['a key someone re-enabled', hold('watching'), { state: 'Enabled', tags: held('disabled') }],
  ])('never touches %s', async (_name, record, key) => {
    // Prepare
    if (record) await table.seed(record);
    fakeKms({ state: key.state, tags: { ...key.tags } });

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.action).toBe('NONE');
    expect(changes()).toEqual([]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it("ignores the workflow's own canary", async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(hold('watching'));

    // Act
    const report = await handler(
      kmsEvent({
        eventName: 'Encrypt',
        userIdentity: { arn: 'arn:aws:sts::111122223333:assumed-role/GuardCheckRole/session-1' },
      }),
    );

    // Assess: told apart by its caller, without reading the key.
    expect(report.keys[0]?.reason).toMatch(/canary/);
    expect(kms.calls()).toHaveLength(0);
  });

  it('does nothing when the execution that holds the key is no longer running', async () => {
    // Prepare
    fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    await table.seed(hold('pending-deletion'));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

    // Act
    const report = await handler(
      kmsEvent({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` }),
    );

    // Assess
    expect(report.keys[0]?.reason).toMatch(/SUCCEEDED, not running/);
    expect(changes()).toEqual([]);
  });

  it('does nothing for a hold recorded by an execution of another state machine', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(
      hold('watching', { execution: 'arn:aws:states:us-east-1:111122223333:execution:Other:x' }),
    );

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.reason).toMatch(/not an execution of/);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(changes()).toEqual([]);
  });

  it('stands back when the workflow claims the hold between its read and its claim: one enable, one e-mail', async () => {
    // Prepare: the restore step's claim lands while the fast path asks whether the execution runs.
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    const seen = hold('watching');
    await table.seed(seen);
    sfn.on(DescribeExecutionCommand).callsFake(async () => {
      await table.seed(claimHold(seen, 'workflow', EXECUTION, NOW));
      return { status: 'RUNNING' };
    });

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.action).toBe('NONE');
    expect(report.keys[0]?.reason).toMatch(/Another actor wrote the hold/);
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect((await table.read())?.claim?.actor).toBe('workflow');
  });

  it('stands back while the workflow is giving the key back', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(claimHold(hold('watching'), 'workflow', EXECUTION, NOW));

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.reason).toMatch(/another actor is giving the key back/);
    expect(changes()).toEqual([]);
  });

  it('comes back later while ScheduleDeletion holds its claim (HoldBusyError)', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(hold('scheduling'));

    // Act
    const act = handler(kmsEvent());

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'HoldBusyError' });
    expect(changes()).toEqual([]);
  });

  it('on a retry after the e-mail failed, sends it once and records it', async () => {
    // Prepare
    fakeKms({ state: 'Disabled', tags: held('disabled') });
    await table.seed(hold('watching'));
    sns.on(PublishCommand).rejectsOnce(new Error('SNS is down'));
    await expect(handler(kmsEvent())).rejects.toThrow('SNS is down');

    // Act
    const retry = await handler(kmsEvent());
    const duplicate = await handler(kmsEvent());

    // Assess
    expect(retry.keys[0]?.action).toBe('NOTIFIED');
    expect(duplicate.keys[0]?.action).toBe('NONE');
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect((await table.read())?.end?.notified).toBe(true);
  });

  it('reads no key of another account and skips a key that no longer exists', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'gone', $metadata: {} }));
    await table.seed(hold('watching'));
    const foreign = KEY_ARN.replace('111122223333', '444455556666');

    // Act
    const report = await handler(
      kmsEvent({ resources: [{ ARN: foreign }, { ARN: KEY_ARN }], errorMessage: `${foreign} is disabled.` }),
    );

    // Assess
    expect(report.keys).toEqual([expect.objectContaining({ keyArn: KEY_ARN, action: 'NONE' })]);
    expect(kms.commandCalls(DescribeKeyCommand).map((c) => c.args[0].input.KeyId)).toEqual([KEY_ARN]);
  });

  it('refuses an event that is not a KMS CloudTrail event', async () => {
    await expect(handler({ source: 'aws.s3', detail: {} })).rejects.toMatchObject({
      name: 'InvalidHandlerEventError',
    });
  });
});
