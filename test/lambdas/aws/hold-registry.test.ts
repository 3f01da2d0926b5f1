import { readHold } from '../../../lambdas/aws/hold-reader.js';
import { putNewHold, replaceHold } from '../../../lambdas/aws/hold-registry.js';
import { HoldRecordUnreadableError } from '../../../lambdas/domain/errors.js';
import { claimHold, type HoldRecord, newHold, nextHold } from '../../../lambdas/domain/hold-record.js';
import { EXECUTION, holdRecord, keyArnIn, OTHER_EXECUTION } from '../fixtures.js';
import { HOLD_TABLE, type HoldTable, startHoldTable } from '../hold-table.js';

const KEY_ARN = keyArnIn('us-east-1');
const NOW = new Date('2026-03-01T00:00:00.000Z');

let table: HoldTable;

beforeAll(async () => {
  table = await startHoldTable();
});

afterAll(async () => {
  await table.close();
});

beforeEach(async () => {
  await table.clear();
});

function fresh(executionArn = EXECUTION): HoldRecord {
  return newHold({ keyArn: KEY_ARN, executionArn, wasEnabled: true, now: NOW });
}

describe('hold registry (against dynalite, a real DynamoDB implementation)', () => {
  it('reads null for a key no execution ever held', async () => {
    // Act
    const hold = await readHold(KEY_ARN);

    // Assess
    expect(hold).toBeNull();
  });

  it('records a new hold and reads it back as written', async () => {
    // Prepare
    const hold = fresh();

    // Act
    const written = await putNewHold(hold);

    // Assess
    expect(written).toBe('WRITTEN');
    expect(await readHold(KEY_ARN)).toEqual(hold);
  });

  it('lets only one of two executions take a free key at the same moment', async () => {
    // Act
    const results = await Promise.all([putNewHold(fresh(EXECUTION)), putNewHold(fresh(OTHER_EXECUTION))]);

    // Assess
    expect([...results].sort()).toEqual(['CONFLICT', 'WRITTEN']);
    const winner = results[0] === 'WRITTEN' ? EXECUTION : OTHER_EXECUTION;
    expect((await readHold(KEY_ARN))?.executionArn).toBe(winner);
  });

  it('refuses a new hold over an active one, and accepts it over an ended one', async () => {
    // Prepare
    const other = holdRecord('watching', { execution: OTHER_EXECUTION });
    await table.seed(other);

    // Act
    const overActive = await putNewHold(fresh());
    await table.seed(nextHold(other, { phase: 'ended' }, NOW));
    const overEnded = await putNewHold(fresh());

    // Assess
    expect(overActive).toBe('CONFLICT');
    expect(overEnded).toBe('WRITTEN');
    expect((await readHold(KEY_ARN))?.executionArn).toBe(EXECUTION);
  });

  it('compares and sets: of two actors that read the same version, exactly one writes', async () => {
    // Prepare: the fast path and the restore step both read the watching hold.
    const seen = holdRecord('watching');
    await table.seed(seen);

    // Act
    const results = await Promise.all([
      replaceHold(seen, claimHold(seen, 'fast-path', 'ev-1', NOW)),
      replaceHold(seen, claimHold(seen, 'workflow', EXECUTION, NOW)),
    ]);

    // Assess
    expect([...results].sort()).toEqual(['CONFLICT', 'WRITTEN']);
    const stored = await readHold(KEY_ARN);
    expect(stored?.version).toBe(seen.version + 1);
    expect(stored?.claim?.actor).toBe(results[0] === 'WRITTEN' ? 'fast-path' : 'workflow');
  });

  it('refuses a write from a stale read, and one that names another execution', async () => {
    // Prepare
    const seen = holdRecord('watching');
    await table.seed(nextHold(seen, { phase: 'scheduling' }, NOW));
    const other = { ...seen, executionArn: OTHER_EXECUTION };

    // Act
    const stale = await replaceHold(seen, nextHold(seen, { phase: 'restoring' }, NOW));
    const foreign = await replaceHold(other, nextHold(other, { phase: 'restoring' }, NOW));

    // Assess
    expect(stale).toBe('CONFLICT');
    expect(foreign).toBe('CONFLICT');
    expect((await readHold(KEY_ARN))?.phase).toBe('scheduling');
  });

  it('counts its own write as written when the SDK retries a request whose answer was lost', async () => {
    // Prepare: the first attempt of each write landed; its answer never arrived.
    const hold = fresh();
    await putNewHold(hold);
    const claimed = claimHold(hold, 'fast-path', 'ev-1', NOW);
    await replaceHold(hold, claimed);

    // Act
    const retriedPut = await putNewHold(hold);
    const retriedReplace = await replaceHold(hold, claimed);

    // Assess: the retried put finds the claim, not itself; the retried replace finds itself.
    expect(retriedPut).toBe('CONFLICT');
    expect(retriedReplace).toBe('WRITTEN');
    expect(await readHold(KEY_ARN)).toEqual(claimed);
  });

  it('counts a retried new hold as written when nothing came after it', async () => {
    // Prepare
    const hold = fresh();
    await putNewHold(hold);

    // Act
    const retried = await putNewHold(hold);

    // Assess
    expect(retried).toBe('WRITTEN');
  });

  it('refuses to write a version that does not follow the one read', async () => {
    // Prepare
    const seen = holdRecord('watching');

    // Act
    const skip = () => replaceHold(seen, { ...seen, version: seen.version + 2 });

    // Assess
    expect(skip).toThrow(RangeError);
  });

  it('keeps the fields a later version of the stack added through a write by this one', async () => {
    // Prepare
    const seen = { ...holdRecord('watching'), cursor: '2026-03-01T00:00:00Z', canaries: [{ at: 'x' }] };
    await table.seed(seen);
    const read = (await readHold(KEY_ARN)) as HoldRecord;

    // Act
    await replaceHold(read, nextHold(read, { phase: 'scheduling' }, NOW));

    // Assess
    expect(await readHold(KEY_ARN)).toMatchObject({
      phase: 'scheduling',
      cursor: '2026-03-01T00:00:00Z',
      canaries: [{ at: 'x' }],
    });
  });

  it('throws HoldRecordUnreadableError for an item that is not a hold record, never guessing', async () => {
    // Prepare
    await table.putRaw({ keyArn: { S: KEY_ARN }, phase: { S: 'watching' } });

    // Act
    const read = readHold(KEY_ARN);

    // Assess
    await expect(read).rejects.toThrow(HoldRecordUnreadableError);
  });

  it('passes other errors on (a missing table is not "no hold")', async () => {
    // Prepare
    process.env.KDG_HOLD_TABLE = 'no-such-table';

    // Act
    const read = readHold(KEY_ARN);

    // Assess
    await expect(read).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    process.env.KDG_HOLD_TABLE = HOLD_TABLE;
  });
});
