import { didYouMean } from '../../../lib/cli/nearest.js';

describe('didYouMean', () => {
  const COMMANDS = [
    'start',
    'status',
    'list',
    'approve',
    'reject',
    'candidates',
    'doctor',
    'simulate',
    'demo',
  ];

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
    expect(didYouMean(typed, COMMANDS)).toBe(expected);
  });

  it.each(['frobnicate', 'ls', 'x', '', 'stop', 'toString', 'constructor'])(
    'suggests nothing for %j, which is no plausible typo of any',
    (typed) => {
      // Assess
      expect(didYouMean(typed, COMMANDS)).toBeNull();
    },
  );

  it('takes a name the word begins before a closer one, the first of several', () => {
    // Assess
    expect(didYouMean('stat', ['start', 'status'])).toBe('status');
    expect(didYouMean('sta', ['start', 'status'])).toBe('start');
  });

  it('does not take a one-letter option for any short one', () => {
    // Assess
    expect(didYouMean('j', ['by', 'json', 'help'])).toBeNull();
    expect(didYouMean('x', ['by'])).toBeNull();
  });

  it('gives a tie to the earlier candidate', () => {
    // Assess
    expect(didYouMean('cat', ['bat', 'hat'])).toBe('bat');
    expect(didYouMean('cat', ['hat', 'bat'])).toBe('hat');
  });
});
