import { KeyUsabilityHistory } from '../../../../lib/simulator/emulator/key-usability.js';

describe('KeyUsabilityHistory', () => {
  it('answers usability at any time and the stretches a key was unusable, in time order', () => {
    // Prepare
    const history = new KeyUsabilityHistory();
    history.start('k', true);

    // Act: disabled at 10, still disabled at 12 (no change), enabled at 20, disabled at 30.
    history.observe('k', 10, false);
    history.observe('k', 12, false);
    history.observe('k', 20, true);
    history.observe('k', 30, false);

    // Assess
    expect([5, 10, 15, 20, 25, 30, 99].map((at) => history.usableAt('k', at))).toEqual([
      true,
      false,
      false,
      true,
      true,
      false,
      false,
    ]);
    expect(history.unusableStretches('k', 40)).toEqual([
      { from: 10, to: 20 },
      { from: 30, to: 40 },
    ]);
    expect(history.unusableStretches('k', 25)).toEqual([{ from: 10, to: 20 }]);
  });

  it('counts a key unusable from the start as unusable since before the simulation, and an unknown key as usable', () => {
    // Prepare
    const history = new KeyUsabilityHistory();
    history.start('disabled', false);

    // Act / Assess
    expect(history.unusableStretches('disabled', 5)).toEqual([{ from: Number.NEGATIVE_INFINITY, to: 5 }]);
    expect(history.usableAt('unknown', 5)).toBe(true);
    history.observe('unknown', 1, false);
    expect(history.usableAt('unknown', 5)).toBe(true);
  });
});
