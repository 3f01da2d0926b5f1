import { editDistance, nearestName, suggestionDistance } from '../../lib/nearest-name.js';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['observationDays', 'observationDays', 0],
    ['obsrvationDays', 'observationDays', 1],
    ['observationDay', 'observationDays', 1],
    ['obesrvationDays', 'observationDays', 1],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
  ])('from %j to %j is %i', (a, b, expected) => {
    // Act
    const distance = editDistance(a, b);

    // Assess
    expect(distance).toBe(expected);
  });

  it('is the same in both directions', () => {
    // Act
    const there = editDistance('minIdleDays', 'minIdelDay');
    const back = editDistance('minIdelDay', 'minIdleDays');

    // Assess
    expect(there).toBe(back);
  });
});

describe('nearestName', () => {
  const FIELDS = ['observationDays', 'approvalTimeoutDays', 'minIdleDays', 'createTrail'] as const;

  it('finds the field a misspelling was meant to be', () => {
    // Act
    const found = nearestName('obsrvationDays', FIELDS, 2);

    // Assess
    expect(found).toBe('observationDays');
  });

  it.each(['ObservationDays', 'observation-days', 'observation_days', 'OBSERVATION DAYS'])(
    'ignores case and separators (%s)',
    (name) => {
      // Act
      const found = nearestName(name, FIELDS, 0);

      // Assess
      expect(found).toBe('observationDays');
    },
  );

  it('finds nothing further away than allowed', () => {
    // Act
    const found = nearestName('region', FIELDS, 2);

    // Assess
    expect(found).toBeUndefined();
  });

  it('prefers the closest of several candidates', () => {
    // Act
    const found = nearestName('minIdleDay', ['minIdleDays', 'minIdle'], 4);

    // Assess
    expect(found).toBe('minIdleDays');
  });
});

describe('suggestionDistance', () => {
  it('allows about one edit in three characters, and at least two', () => {
    // Act
    const short = suggestionDistance('abc');
    const long = suggestionDistance('observationDays');

    // Assess
    expect(short).toBe(2);
    expect(long).toBe(5);
  });
});
