import { checkWindow, dedupe, MAX_SEEN_EVENT_IDS, nextWindow } from '../../../lambdas/domain/window.js';

const LAG = 1800;

function rec(eventID: string, eventTime: string): { eventID: string; eventTime: string } {
  return { eventID, eventTime };
}

describe('nextWindow', () => {
  it('reaches back one ingestion lag before the cursor and ends now', () => {
    // Prepare
    const cursor = new Date('2026-01-01T06:00:00Z');
    const now = new Date('2026-01-01T12:00:00Z');

    // Act
    const window = nextWindow(cursor, now, LAG);

    // Assess
    expect(window.start.toISOString()).toBe('2026-01-01T05:30:00.000Z');
    expect(window.end.toISOString()).toBe('2026-01-01T12:00:00.000Z');
  });

  it('never starts before the watch start when one is given', () => {
    // Prepare
    const start = new Date('2026-01-01T00:00:00Z');

    // Act
    const window = nextWindow(start, new Date('2026-01-01T06:00:00Z'), LAG, start);

    // Assess
    expect(window.start.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('never ends before it starts', () => {
    // Prepare
    const cursor = new Date('2026-01-01T06:00:00Z');

    // Act
    const window = nextWindow(cursor, new Date('2026-01-01T05:00:00Z'), 0);

    // Assess
    expect(window.end.getTime()).toBeGreaterThanOrEqual(window.start.getTime());
  });
});

describe('checkWindow', () => {
  const disabledAt = new Date('2026-01-01T00:00:00Z');
  const cursor = new Date('2026-01-20T06:00:00Z');
  const now = new Date('2026-01-20T12:00:00Z');

  it('searches an observation check from its cursor less the lag', () => {
    // Act
    const window = checkWindow({ decision: false, cursor, disabledAt, now, lagSeconds: LAG });

    // Assess
    expect(window.start.toISOString()).toBe('2026-01-20T05:30:00.000Z');
    expect(window.end).toEqual(now);
  });

  it('searches a decision over the whole hold, so a record delivered after its window passed is found', () => {
    // Act
    const window = checkWindow({ decision: true, cursor, disabledAt, now, lagSeconds: LAG });

    // Assess
    expect(window.start.toISOString()).toBe('2025-12-31T23:30:00.000Z');
    expect(window.end).toEqual(now);
  });
});

describe('dedupe', () => {
  it('returns a record seen in the previous overlap only once', () => {
    // Prepare
    const first = [rec('a', '2026-01-01T05:50:00Z'), rec('b', '2026-01-01T05:55:00Z')];
    const firstPass = dedupe(first, [], new Date('2026-01-01T05:00:00Z'));
    const second = [rec('b', '2026-01-01T05:55:00Z'), rec('c', '2026-01-01T11:00:00Z')];

    // Act
    const secondPass = dedupe(second, firstPass.seen, new Date('2026-01-01T11:00:00Z'));

    // Assess
    expect(firstPass.fresh.map((r) => r.eventID)).toEqual(['a', 'b']);
    expect(secondPass.fresh.map((r) => r.eventID)).toEqual(['c']);
  });

  it('counts a record returned twice in one window once', () => {
    // Prepare
    const records = [rec('a', '2026-01-01T05:50:00Z'), rec('a', '2026-01-01T05:50:00Z')];

    // Act
    const { fresh } = dedupe(records, [], new Date('2026-01-01T00:00:00Z'));

    // Assess
    expect(fresh).toHaveLength(1);
  });

  it('forgets IDs older than keepSince and IDs not returned any more', () => {
    // Prepare
    const records = [rec('old', '2026-01-01T01:00:00Z'), rec('new', '2026-01-01T11:45:00Z')];

    // Act
    const { seen } = dedupe(records, ['gone'], new Date('2026-01-01T11:00:00Z'));

    // Assess
    expect(seen).toEqual(['new']);
  });

  it('keeps memory bounded, newest first', () => {
    // Prepare
    const base = Date.parse('2026-01-01T00:00:00Z');
    const records = Array.from({ length: MAX_SEEN_EVENT_IDS + 50 }, (_, i) =>
      rec(`id-${i}`, new Date(base + i * 1000).toISOString()),
    );

    // Act
    const { seen, fresh } = dedupe(records, [], new Date(base));

    // Assess
    expect(fresh).toHaveLength(MAX_SEEN_EVENT_IDS + 50);
    expect(seen).toHaveLength(MAX_SEEN_EVENT_IDS);
    expect(seen[0]).toBe(`id-${MAX_SEEN_EVENT_IDS + 49}`);
    expect(seen).not.toContain('id-0');
  });
});
