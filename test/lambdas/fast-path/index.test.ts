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
  process.env.KDG_CLAIM_SETTLE_MS = '0';
  process.env.KDG_TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:guard-topic';
  process.env.KDG_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:111122223333:stateMachine:Guard';
  process.env.KDG_WORKFLOW_PRINCIPALS =
    'arn:aws:iam::111122223333:role/GuardCheckRole,arn:aws:iam::111122223333:role/GuardDisableRole';
});

import { FAST_PATH_TAGS } from '../../../lambdas/contracts/tags.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { handler } from '../../../lambdas/fast-path/index.js';
import { commandNames, disabledDecryptRecord, heldTags } from '../fixtures.js';

const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:Guard:run-1';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;
const APP = 'arn:aws:iam::111122223333:role/billing-app';
const NOW = new Date('2026-02-12T06:02:00.000Z');

const kms = mockClient(KMSClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);

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
  beforeEach(() => {
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

  it('re-enables a key the workflow disabled within minutes, leaves the evidence on it and e-mails it', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys).toEqual([expect.objectContaining({ keyArn: KEY_ARN, action: 'EnableKey' })]);
    expect(changes()).toEqual([
      'TagResourceCommand',
      'EnableKeyCommand',
      'TagResourceCommand',
      'TagResourceCommand',
    ]);
    expect(key.state).toBe('Enabled');
    const claim = `fast-path ev-1 ${NOW.toISOString()}`;
    expect(key.tags).toMatchObject({
      [TAGS.status]: 'rolled-back',
      [TAGS.evidence]: '1 record first ev-1 at 2026-02-12T06:00:00Z',
      [FAST_PATH_TAGS.caller]: APP,
      [FAST_PATH_TAGS.claim]: claim,
      [FAST_PATH_TAGS.notified]: claim,
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
    // Prepare
    const key = fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });

    // Act
    const report = await handler(
      kmsEvent({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` }),
    );

    // Assess
    expect(report.keys[0]?.action).toBe('CancelKeyDeletion');
    expect(changes()).toEqual(['CancelKeyDeletionCommand', 'TagResourceCommand', 'TagResourceCommand']);
    expect(key.state).toBe('Disabled');
    expect(key.tags[TAGS.status]).toBe('deletion-cancelled');
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes?.kind?.StringValue).toBe(
      'deletion-cancelled',
    );
  });

  it('sends no e-mail when the workflow cancelled the deletion first', async () => {
    // Prepare: CancelKeyDeletion lets only one caller succeed.
    fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    kms
      .on(CancelKeyDeletionCommand)
      .rejects(
        new KMSInvalidStateException({ message: `${KEY_ARN} is not pending deletion.`, $metadata: {} }),
      );

    // Act
    const report = await handler(
      kmsEvent({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` }),
    );

    // Assess
    expect(report.keys[0]?.action).toBe('NONE');
    expect(kms.commandCalls(TagResourceCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it.each([
    ['a key a person disabled', { state: 'Disabled', tags: { team: 'billing' } }],
    ['a key whose hold ended', { state: 'Enabled', tags: held('rolled-back') }],
    ['a key that was aborted', { state: 'Disabled', tags: held('aborted') }],
  ])('never touches %s', async (_name, key) => {
    // Prepare
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

    // Act
    const report = await handler(
      kmsEvent({
        eventName: 'Encrypt',
        userIdentity: { arn: 'arn:aws:sts::111122223333:assumed-role/GuardCheckRole/session-1' },
      }),
    );

    // Assess: told apart by its caller, without reading the key.
    expect(report.keys[0]?.reason).toMatch(/canary/);
    expect(changes()).toEqual([]);
    expect(kms.calls()).toHaveLength(0);
  });

  it('does nothing when the execution that holds the key is no longer running', async () => {
    // Prepare
    fakeKms({ state: 'PendingDeletion', tags: held('pending-deletion') });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

    // Act
    const report = await handler(
      kmsEvent({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` }),
    );

    // Assess
    expect(report.keys[0]?.reason).toMatch(/SUCCEEDED, not running/);
    expect(changes()).toEqual([]);
  });

  it('does nothing for a hold tag that names an execution of another state machine', async () => {
    // Prepare
    fakeKms({
      state: 'Disabled',
      tags: {
        ...held('disabled'),
        [TAGS.execution]: 'arn:aws:states:us-east-1:111122223333:execution:Other:x',
      },
    });

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.reason).toMatch(/not an execution of/);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
    expect(changes()).toEqual([]);
  });

  it('stands back when the workflow claims the hold at the same moment: one enable, one e-mail', async () => {
    // Prepare: the workflow's claim lands after ours, before we read it back.
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
    kms.on(TagResourceCommand).callsFakeOnce(() => {
      key.tags[FAST_PATH_TAGS.claim] = `workflow restore ${NOW.toISOString()}`;
      return {};
    });

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.action).toBe('NONE');
    expect(kms.commandCalls(EnableKeyCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('stands back while the workflow holds a live claim', async () => {
    // Prepare
    fakeKms({
      state: 'Disabled',
      tags: { ...held('disabled'), [FAST_PATH_TAGS.claim]: `workflow restore ${NOW.toISOString()}` },
    });

    // Act
    const report = await handler(kmsEvent());

    // Assess
    expect(report.keys[0]?.reason).toMatch(/right now/);
    expect(changes()).toEqual([]);
  });

  it('on a retry after the e-mail failed, sends it once and records it', async () => {
    // Prepare
    const key = fakeKms({ state: 'Disabled', tags: held('disabled') });
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
    expect(key.tags[FAST_PATH_TAGS.notified]).toBe(key.tags[FAST_PATH_TAGS.claim]);
  });

  it('reads no key of another account and skips a key that no longer exists', async () => {
    // Prepare
    kms.on(DescribeKeyCommand).rejects(new NotFoundException({ message: 'gone', $metadata: {} }));
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
