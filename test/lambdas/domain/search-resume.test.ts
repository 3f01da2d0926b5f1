import { SearchTooLongError } from '../../../lambdas/domain/errors.js';
import {
  checkSearchLimit,
  MAX_SEARCH_MS_PER_INVOCATION,
  requireWithinLimit,
  type SearchResume,
} from '../../../lambdas/domain/search-resume.js';

const RESUME: SearchResume = {
  logGroupName: 'trail',
  kind: 'BREAKAGE',
  filterPattern: '{ $.eventSource = "kms.amazonaws.com" }',
  start: '2026-01-01T00:00:00.000Z',
  end: '2026-01-08T00:00:00.000Z',
  nextToken: 'token',
  tokenAt: '2026-01-08T00:00:00.000Z',
  startedAt: '2026-01-08T00:00:00.000Z',
  invocations: 3,
  pages: 2352,
  restarts: 0,
  records: [],
  ingestedAt: {},
  scanned: 0,
  unparseable: 0,
};

describe('checkSearchLimit', () => {
  it('allows one check interval, and as many invocations of the longest search as it holds', () => {
    // Act
    const limit = checkSearchLimit(6 * 3600);

    // Assess
    expect(MAX_SEARCH_MS_PER_INVOCATION).toBe(240_000);
    expect(limit).toEqual({ maxInvocations: 90, maxElapsedMs: 6 * 3600 * 1000 });
  });
});

describe('requireWithinLimit', () => {
  it('lets a search go on while it is within both bounds', () => {
    // Act
    const act = () =>
      requireWithinLimit(
        RESUME,
        { maxInvocations: 4, maxElapsedMs: 3_600_000 },
        new Date('2026-01-08T00:59:00Z'),
      );

    // Assess
    expect(act).not.toThrow();
  });

  it('stops a search that has used its invocations, by name', () => {
    // Act
    const act = () =>
      requireWithinLimit(
        RESUME,
        { maxInvocations: 3, maxElapsedMs: 3_600_000 },
        new Date('2026-01-08T00:03:00Z'),
      );

    // Assess
    expect(act).toThrow(SearchTooLongError);
  });

  it('stops a search that has gone on longer than its time, by name', () => {
    // Act
    const act = () =>
      requireWithinLimit(
        RESUME,
        { maxInvocations: 90, maxElapsedMs: 3_600_000 },
        new Date('2026-01-08T01:00:01Z'),
      );

    // Assess
    expect(act).toThrow(/not done after 3 invocations, 2352 pages and 3601 s/);
  });
});
