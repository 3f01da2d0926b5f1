vi.hoisted(() => {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  readApprovalLink,
  spendApprovalLink,
  unspendApprovalLink,
} from '../../../lambdas/aws/approval-link-reader.js';
import { saveApprovalLink } from '../../../lambdas/aws/approval-link-writer.js';
import { LINK_ATTRIBUTES } from '../../../lambdas/contracts/approval.js';
import {
  type ApprovalLinkRecord,
  linkSecretHash,
  newLinkSecret,
} from '../../../lambdas/domain/approval-link.js';
import { TestLinkStore } from '../approval/link-store.js';

// The link store's calls against a real DynamoDB implementation (dynalite): the conditions are
// DynamoDB's, not a mock's reading of them.

const NOW = new Date('2026-02-01T10:00:00.000Z');
let store: TestLinkStore;

function record(secret: string, overrides: Partial<ApprovalLinkRecord> = {}): ApprovalLinkRecord {
  return {
    linkHash: linkSecretHash(secret),
    taskToken: 'AQCEAAAA+token/=',
    executionArn: 'arn:aws:states:us-east-1:111122223333:execution:Guard:run',
    step: 'disable',
    keyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    createdAt: NOW.toISOString(),
    expiresAt: '2026-02-08T10:00:00.000Z',
    ...overrides,
  };
}

describe('approval link store', () => {
  beforeAll(async () => {
    store = await TestLinkStore.start('links-under-test');
  });

  afterAll(async () => {
    await store.close();
  });

  it('keeps the digest, the token and the request, with a TTL, and never the secret', async () => {
    // Prepare
    const secret = newLinkSecret();

    // Act
    await saveApprovalLink(store.table, record(secret), 1_771_149_600);
    const read = await readApprovalLink(store.table, linkSecretHash(secret));

    // Assess
    expect(read).toEqual(record(secret));
    const raw = JSON.stringify(await store.rawItems());
    expect(raw).not.toContain(secret);
    expect(raw).toContain(`"${LINK_ATTRIBUTES.retainUntil}":{"N":"1771149600"}`);
  });

  it('refuses to store a digest twice: a new link never replaces another', async () => {
    // Prepare
    const secret = newLinkSecret();
    await saveApprovalLink(store.table, record(secret), 1);

    // Act
    const second = saveApprovalLink(store.table, record(secret, { taskToken: 'other' }), 1);

    // Assess
    await expect(second).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect((await readApprovalLink(store.table, linkSecretHash(secret)))?.taskToken).toBe('AQCEAAAA+token/=');
  });

  it('answers null for a digest it does not hold', async () => {
    expect(await readApprovalLink(store.table, linkSecretHash(newLinkSecret()))).toBeNull();
  });

  it('spends a link once: the second spend, whatever its decision, is refused', async () => {
    // Prepare
    const secret = newLinkSecret();
    await saveApprovalLink(store.table, record(secret), 1);
    const hash = linkSecretHash(secret);

    // Act
    const first = await spendApprovalLink(store.table, hash, 'approve', NOW);
    const second = await spendApprovalLink(store.table, hash, 'reject', NOW);

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(await readApprovalLink(store.table, hash)).toMatchObject({
      usedAt: NOW.toISOString(),
      usedFor: 'approve',
    });
  });

  it('lets one of two spends sent at once win', async () => {
    // Prepare
    const secret = newLinkSecret();
    await saveApprovalLink(store.table, record(secret), 1);

    // Act
    const results = await Promise.all(
      ['approve', 'reject', 'approve', 'reject'].map((decision) =>
        spendApprovalLink(store.table, linkSecretHash(secret), decision as 'approve' | 'reject', NOW),
      ),
    );

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('refuses to spend an expired link, and one it does not hold (without creating it)', async () => {
    // Prepare
    const secret = newLinkSecret();
    await saveApprovalLink(store.table, record(secret, { expiresAt: NOW.toISOString() }), 1);
    const unknown = linkSecretHash(newLinkSecret());

    // Act / Assess
    expect(await spendApprovalLink(store.table, linkSecretHash(secret), 'approve', NOW)).toBe(false);
    expect(await spendApprovalLink(store.table, unknown, 'approve', NOW)).toBe(false);
    expect(await readApprovalLink(store.table, unknown)).toBeNull();
  });

  it('gives back only its own spend', async () => {
    // Prepare
    const secret = newLinkSecret();
    const hash = linkSecretHash(secret);
    await saveApprovalLink(store.table, record(secret), 1);
    await spendApprovalLink(store.table, hash, 'approve', NOW);

    // Act: another spend time first (not ours), then ours.
    await unspendApprovalLink(store.table, hash, new Date(NOW.getTime() + 1));
    const stillSpent = await readApprovalLink(store.table, hash);
    await unspendApprovalLink(store.table, hash, NOW);

    // Assess
    expect(stillSpent?.usedAt).toBe(NOW.toISOString());
    expect((await readApprovalLink(store.table, hash))?.usedAt).toBeUndefined();
    expect(await spendApprovalLink(store.table, hash, 'reject', NOW)).toBe(true);
  });

  it('reads an item that is not a link as no link', async () => {
    // Prepare: a record with a step the workflow never asks.
    const secret = newLinkSecret();
    await saveApprovalLink(store.table, record(secret, { step: 'delete' as 'deletion' }), 1);

    // Act / Assess
    expect(await readApprovalLink(store.table, linkSecretHash(secret))).toBeNull();
  });
});
