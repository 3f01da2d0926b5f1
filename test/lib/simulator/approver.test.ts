import { linkSecretHash } from '../../../lambdas/domain/approval-link.js';
import { TAGS } from '../../../lambdas/domain/types.js';
import { APPROVER_NAME, APPROVER_SOURCE_IP, approvalLinkIn } from '../../../lib/simulator/approver.js';
import type { EmulatedAccount } from '../../../lib/simulator/emulator/account.js';
import type { PublishedMessage } from '../../../lib/simulator/emulator/sns-sfn.js';
import { LINK_SECRET_MARKER, simulate } from '../../../lib/simulator/simulate.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRET = 'TwCZuzeukV5a4SEHDS6ikl9C8H_L2GbKNNXtTGXufK0';

function scenario(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'approver',
    start: '2026-01-01T00:00:00Z',
    keys: [{ keyId: KEY_ID, createdAt: '2024-01-01T00:00:00Z', aliases: ['alias/legacy'] }],
    input: { keyId: KEY_ID, observationDays: 1 },
    config: { watchPendingWindow: false, pendingWindowInDays: 7 },
    ...extra,
  };
}

describe('approvalLinkIn', () => {
  it('finds the link of an approval e-mail, and nothing in a text without one', () => {
    // Prepare
    const link = `https://abc.execute-api.us-east-1.amazonaws.com/approval/?link=${SECRET}`;

    // Act / Assess
    expect(
      approvalLinkIn(`Report.\n\nOpen this page to approve or reject: ${link}\n\nThe link works once.`),
    ).toBe(link);
    expect(approvalLinkIn('Approval token: AQCEAAAA+token/=')).toBeNull();
  });
});

describe('the simulated approver', () => {
  it('answers each approval through the e-mail link and the approval page, which records a self-declared name', async () => {
    // Prepare
    let published: readonly PublishedMessage[] = [];
    let tags: Readonly<Record<string, string>> = {};
    const inspect = (account: EmulatedAccount) => {
      published = [...account.sns.published()];
      tags = account.inspectKey(KEY_ID)?.tags ?? {};
    };

    // Act
    const result = await simulate(scenario(), { inspect });

    // Assess: two requests, each with its own secret in the e-mail, answered on the page.
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    const links = published.map((message) => approvalLinkIn(message.message));
    expect(links).toHaveLength(2);
    const secrets = links.map((link) => new URL(link ?? 'https://x/').searchParams.get('link'));
    expect(new Set(secrets).size).toBe(2);
    // The page recorded the decisions the way it labels them, and the workflow put them on the key.
    expect(tags[TAGS.disableApprovedBy]).toBe(
      `self-declared ${APPROVER_NAME} at 2026-01-01T00:00:00.000Z from ${APPROVER_SOURCE_IP}`,
    );
    expect(tags[TAGS.deletionApprovedBy]).toMatch(
      new RegExp(`^self-declared ${APPROVER_NAME} at .* from ${APPROVER_SOURCE_IP}$`),
    );
    // The deletion request names who approved the disable, labelled.
    expect(published[1]?.message).toContain(
      `Disabling this key was approved by ${APPROVER_NAME} (self-declared name, not verified; from ${APPROVER_SOURCE_IP}`,
    );
    expect(result.timeline.filter((e) => e.state.startsWith('Request')).map((e) => e.detail)).toEqual([
      { step: 'disable', answer: 'approve' },
      { step: 'deletion', answer: 'approve' },
    ]);
  });

  it('shows no secret, digest or task token in the result', async () => {
    // Prepare
    let published: readonly PublishedMessage[] = [];

    // Act
    const result = await simulate(scenario(), {
      inspect: (account) => {
        published = [...account.sns.published()];
      },
    });

    // Assess
    const text = JSON.stringify(result);
    for (const message of published) {
      const secret = new URL(approvalLinkIn(message.message) ?? 'https://x/').searchParams.get('link') ?? '';
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(linkSecretHash(secret));
    }
    expect(text).toContain(`?link=${LINK_SECRET_MARKER}`);
    // Simulated task tokens start with AQB (the engine's stand-in for Step Functions' tokens).
    expect(text).not.toMatch(/AQB[A-Za-z0-9_-]{20,}/);
  });

  it('never opens the link for a timeout answer: the request expires and nothing changes', async () => {
    // Act
    const result = await simulate(scenario({ approvals: { disable: 'timeout' } }));

    // Assess
    expect(result.outcome).toBe('APPROVAL_EXPIRED');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.timeline.find((e) => e.state === 'RequestDisableApproval')?.detail).toMatchObject({
      step: 'disable',
      answer: 'timeout',
    });
  });

  it('retries a request whose e-mail SNS kept throttling, and is answered', async () => {
    // Prepare: three throttles outlast the SDK's three attempts in one invocation; the state retries it.
    let published: readonly PublishedMessage[] = [];
    const faults = [
      { service: 'sns', operation: 'Publish', error: 'ThrottledException', count: 3, from: '+P0D' },
    ];

    // Act
    const result = await simulate(scenario({ faults }), {
      inspect: (account) => {
        published = [...account.sns.published()];
      },
    });

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    expect(result.timeline.find((e) => e.state === 'RequestDisableApproval')?.detail).toMatchObject({
      retries: 1,
      answer: 'approve',
    });
    expect(published.filter((m) => m.attributes.kind === 'approval-request')).toHaveLength(2);
  });

  it('ends with nothing changed when the approval e-mail can never be sent', async () => {
    // Prepare
    const faults = [{ service: 'sns', operation: 'Publish', error: 'InternalErrorException', from: '+P0D' }];

    // Act
    const result = await simulate(scenario({ faults }));

    // Assess
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.notifications).toEqual([]);
    expect(result.timeline.map((e) => e.state)).not.toContain('DisableKey');
  });

  it('still decides on the page when the scenario injects faults into the workflow’s Step Functions calls', async () => {
    // Prepare: the workflow's own SendTaskSuccess is denied; the person's page is not the workflow.
    const faults = [
      { service: 'sfn', operation: 'SendTaskSuccess', error: 'AccessDeniedException', from: '+P0D' },
    ];

    // Act
    const result = await simulate(scenario({ faults }));

    // Assess: the disable is approved; the watch's own answer is denied, and the key is restored.
    expect(result.timeline.find((e) => e.state === 'RequestDisableApproval')?.detail).toMatchObject({
      answer: 'approve',
    });
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
  });

  it('stores and redeems links whatever the scenario’s DynamoDB faults, which aim at the hold registry', async () => {
    // Prepare: every PutItem fails, for good.
    const faults = [
      { service: 'dynamodb', operation: 'PutItem', error: 'InternalServerError', from: '+P0D' },
    ];

    // Act
    const result = await simulate(scenario({ faults }));

    // Assess: the approval went out and was answered; the registry's write then failed, nothing changed.
    expect(result.notifications.map((n) => n.kind)[0]).toBe('approval-request');
    expect(result.timeline.find((e) => e.state === 'RequestDisableApproval')?.detail).toMatchObject({
      answer: 'approve',
    });
    expect(result.outcome).toBe('ABORTED');
    expect(result.key.finalState).toBe('Enabled');
  });
});
