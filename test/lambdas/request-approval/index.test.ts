import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.KDG_APPROVAL_LINKS_TABLE = 'request-links';
  process.env.KDG_APPROVAL_TOPIC_ARN = 'arn:aws:sns:us-east-1:111122223333:GuardApprovalTopic';
  process.env.KDG_APPROVAL_URL = 'https://abc.execute-api.us-east-1.amazonaws.com/approval/';
});

import { linkFingerprint, linkSecretHash } from '../../../lambdas/domain/approval-link.js';
import { LINK_PARAGRAPH } from '../../../lambdas/domain/approval-page.js';
import { EnvironmentError } from '../../../lambdas/domain/errors.js';
import { handler } from '../../../lambdas/request-approval/index.js';
import { EXECUTION_ARN, KEY_ARN, TOKEN } from '../approval/fake-execution.js';
import { TestLinkStore } from '../approval/link-store.js';

const NOW = new Date('2026-02-01T10:00:00.000Z');
const sns = mockClient(SNSClient);
let store: TestLinkStore;
let logged: string[] = [];

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    executionArn: EXECUTION_ARN,
    taskToken: TOKEN,
    step: 'disable',
    subject: 'Approve disabling KMS key alias/legacy (1234abcd...)',
    text: 'The assessment.',
    keyArn: KEY_ARN,
    timeoutSeconds: 7 * 86_400,
    approvers: [],
    ...overrides,
  };
}

/** The secret in the link of the e-mail published. */
function secretOf(message: string): string {
  const match = /\?link=([A-Za-z0-9_-]+)/.exec(message);
  if (!match?.[1]) throw new Error(`no link in ${message}`);
  return match[1];
}

describe('request-approval handler', () => {
  beforeAll(async () => {
    store = await TestLinkStore.start(process.env.KDG_APPROVAL_LINKS_TABLE);
  });

  afterAll(async () => {
    await store.close();
  });

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    logged = [];
    const capture = (chunk: unknown) => {
      logged.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  });

  afterEach(() => {
    vi.useRealTimers();
    sns.reset();
  });

  it('e-mails a link whose secret only the link store can turn into the task token', async () => {
    // Act
    const result = await handler(event());

    // Assess: the e-mail, on the approval topic.
    const publish = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish?.TopicArn).toBe(process.env.KDG_APPROVAL_TOPIC_ARN);
    expect(publish?.Subject).toBe('Approve disabling KMS key alias/legacy (1234abcd...)');
    const message = publish?.Message ?? '';
    expect(message.startsWith(`The assessment.${LINK_PARAGRAPH}`)).toBe(true);
    const secret = secretOf(message);
    expect(message).toContain(`https://abc.execute-api.us-east-1.amazonaws.com/approval/?link=${secret}`);
    expect(message).toContain('expires at 2026-02-08T10:00:00.000Z');
    // The store: the digest of that secret, with the token it stands for.
    expect(await store.recordOf(secret)).toEqual({
      linkHash: linkSecretHash(secret),
      taskToken: TOKEN,
      executionArn: EXECUTION_ARN,
      step: 'disable',
      keyArn: KEY_ARN,
      createdAt: NOW.toISOString(),
      expiresAt: '2026-02-08T10:00:00.000Z',
    });
    // The result (kept in the execution history) names the link without holding it.
    expect(result).toEqual({
      link: linkFingerprint(secret),
      step: 'disable',
      expiresAt: '2026-02-08T10:00:00.000Z',
    });
  });

  it('writes the secret nowhere but the e-mail body: not the result, the attributes, the logs or the store', async () => {
    // Act
    const result = await handler(event());

    // Assess
    const publish = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    const secret = secretOf(publish?.Message ?? '');
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(JSON.stringify(publish?.MessageAttributes)).not.toContain(secret);
    expect(JSON.stringify(publish?.MessageAttributes)).not.toContain(TOKEN);
    expect(publish?.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'approval-request' },
      step: { DataType: 'String', StringValue: 'disable' },
      execution: { DataType: 'String', StringValue: EXECUTION_ARN },
    });
    expect(publish?.Message).not.toContain(TOKEN);
    const output = logged.join('');
    expect(output).toContain('Approval requested');
    expect(output).not.toContain(secret);
    expect(output).not.toContain(TOKEN);
    expect(JSON.stringify(await store.rawItems())).not.toContain(secret);
  });

  it('makes a fresh secret for every request, a retry of the same task included', async () => {
    // Act
    await handler(event());
    await handler(event());

    // Assess
    const [first, second] = sns
      .commandCalls(PublishCommand)
      .map((call) => secretOf(call.args[0].input.Message ?? ''));
    expect(first).not.toBe(second);
    expect((await store.recordOf(first ?? ''))?.taskToken).toBe(TOKEN);
    expect((await store.recordOf(second ?? ''))?.taskToken).toBe(TOKEN);
  });

  it('names who approved the disable in the deletion request', async () => {
    // Act
    await handler(
      event({
        step: 'deletion',
        text: 'The observation report.',
        previousDecision: {
          decision: 'approve',
          by: 'alice',
          at: '2026-01-01T00:00:00.000Z',
          identity: { kind: 'self-declared' },
          via: 'approval-page',
          sourceIp: '198.51.100.7',
          userAgent: 'Mozilla/5.0',
        },
      }),
    );

    // Assess
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      'Disabling this key was approved by alice (self-declared name, not verified; from 198.51.100.7, Mozilla/5.0; on the approval page) at 2026-01-01T00:00:00.000Z.',
    );
    expect((await store.recordOf(secretOf(message)))?.step).toBe('deletion');
  });

  it('fails with the SNS error when the e-mail cannot be sent, so the workflow retries it', async () => {
    // Prepare
    const throttled = new Error('Rate exceeded');
    throttled.name = 'ThrottledException';
    sns.on(PublishCommand).rejects(throttled);

    // Act / Assess
    await expect(handler(event())).rejects.toMatchObject({ name: 'ThrottledException' });
  });

  it.each([
    ['no task token', { taskToken: undefined }],
    ['another step', { step: 'delete' }],
    ['no timeout', { timeoutSeconds: 0 }],
    ['no key', { keyArn: 'alias/legacy' }],
  ])('refuses an event with %s before anything is stored or sent', async (_case, overrides) => {
    // Act / Assess
    await expect(handler(event(overrides))).rejects.toMatchObject({ name: 'InvalidHandlerEventError' });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('names the setting it lacks', async () => {
    // Prepare
    const url = process.env.KDG_APPROVAL_URL;
    process.env.KDG_APPROVAL_URL = 'http://insecure.example/';

    try {
      // Act / Assess
      await expect(handler(event())).rejects.toBeInstanceOf(EnvironmentError);
      await expect(handler(event())).rejects.toThrow(/KDG_APPROVAL_URL/);
    } finally {
      process.env.KDG_APPROVAL_URL = url;
    }
  });
});
