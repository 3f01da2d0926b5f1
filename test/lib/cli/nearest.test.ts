import { editDistance, nearestName } from '../../../lib/cli/nearest.js';

describe('editDistance', () => {
  it.each([
    ['status', 'status', 0],
    ['stauts', 'status', 1],
    ['aprove', 'approve', 1],
    ['stat', 'status', 2],
    ['', 'list', 4],
    ['demo', 'doctor', 4],
    ['ab', 'ba', 1],
  ])('counts %j to %j as %i edits (a swap of neighbours is one)', (a, b, expected) => {
    // Assess
    expect(editDistance(a, b)).toBe(expected);
    expect(editDistance(b, a)).toBe(expected);
  });
});

describe('nearestName', () => {
  const COMMANDS = ['start', 'status', 'list', 'approve', 'reject', 'candidates', 'doctor', 'simulate', 'demo'];

  it.each([
    ['stat', 'status'],
    ['stauts', 'status'],
    ['STATUS', 'status'],
    ['strat', 'start'],
    ['aprove', 'approve'],
    ['rejcet', 'reject'],
    ['candidate', 'candidates'],
    ['simulte', 'simulate'],
    ['lst', 'list'],
  ])('takes %j for %j', (typed, expected) => {
    // Assess
    expect(nearestName(typed, COMMANDS)).toBe(expected);
  });

  it.each(['frobnicate', 'ls', 'x', '', 'stop', 'toString', 'constructor'])(
    'suggests nothing for %j, which is no plausible typo of any',
    (typed) => {
      // Assess
      expect(nearestName(typed, COMMANDS)).toBeNull();
    },
  );

  it('gives a tie to the earlier candidate', () => {
    // Assess
    expect(nearestName('cat', ['bat', 'hat'])).toBe('bat');
    expect(nearestName('cat', ['hat', 'bat'])).toBe('hat');
  });
});
