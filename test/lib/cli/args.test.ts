import {
  AWS_OPTIONS,
  actorName,
  type CommandSpec,
  integerOption,
  parseCommandArgs,
  textOption,
} from '../../../lib/cli/args.js';
import { InvalidOptionValueError, UsageError } from '../../../lib/cli/errors.js';

const SPEC: CommandSpec = {
  name: 'thing',
  description: 'Do a thing.',
  argument: { name: '<x>', description: 'the thing' },
  options: { ...AWS_OPTIONS, count: { type: 'string', value: 'N', description: 'how many' } },
};

describe('parseCommandArgs', () => {
  it('reads positionals, string options and flags', () => {
    // Act
    const args = parseCommandArgs(['abc', '--count', '3', '--json', '--region=eu-west-1'], SPEC);

    // Assess
    expect(args.positionals).toEqual(['abc']);
    expect(args.string('count')).toBe('3');
    expect(args.string('region')).toBe('eu-west-1');
    expect(args.flag('json')).toBe(true);
    expect(args.string('profile')).toBeUndefined();
  });

  it('rejects an unknown option with the nearest one and the usage', () => {
    // Act
    const act = () => parseCommandArgs(['abc', '--cuont', '3'], SPEC);

    // Assess
    expect(act).toThrow(UsageError);
    expect(act).toThrow(
      "Unknown option '--cuont' (did you mean '--count'?). Usage: kms-deletion-guard thing <x> [options] " +
        '(kms-deletion-guard thing --help lists the options).',
    );
  });

  it('suggests nothing for an option far from every known one, or a short one', () => {
    // Assess
    expect(() => parseCommandArgs(['abc', '--yaml'], SPEC)).toThrow(/^Unknown option '--yaml'\. Usage:/);
    expect(() => parseCommandArgs(['abc', '-j'], SPEC)).toThrow(/^Unknown option '-j'\. Usage:/);
  });

  it.each(['--constructor', '--toString', '--__proto__', '--hasOwnProperty'])(
    'takes %s for an unknown option, not an inherited property',
    (option) => {
      // Act
      const act = () => parseCommandArgs(['abc', option], SPEC);

      // Assess
      expect(act).toThrow(UsageError);
      expect(act).toThrow(`Unknown option '${option}'`);
    },
  );

  it('ends a parse error of Node with a full stop before the usage', () => {
    // Assess
    expect(() => parseCommandArgs(['abc', '--count'], SPEC)).toThrow(
      "Option '--count <value>' argument missing. Usage: kms-deletion-guard thing <x> [options]",
    );
  });

  it('rejects a missing and an extra argument', () => {
    // Assess
    expect(() => parseCommandArgs([], SPEC)).toThrow('Missing argument. Usage: kms-deletion-guard thing');
    expect(() => parseCommandArgs(['a', 'b'], SPEC)).toThrow('Unexpected argument "b"');
  });

  it('lets --help through without arguments', () => {
    // Act
    const args = parseCommandArgs(['-h'], SPEC);

    // Assess
    expect(args.help).toBe(true);
  });
});

describe('integerOption', () => {
  it('accepts whole numbers within the bounds and nothing when absent', () => {
    // Assess
    expect(integerOption('observation-days', '1', 1, 365, 'x')).toBe(1);
    expect(integerOption('observation-days', '365', 1, 365, 'x')).toBe(365);
    expect(integerOption('observation-days', undefined, 1, 365, 'x')).toBeUndefined();
  });

  it.each(['0', '366', '2.5', '1e2', '-1', '', 'ten', '0x10'])('rejects %j with a named error', (raw) => {
    // Act
    const act = () => integerOption('observation-days', raw, 1, 365, 'how long to watch');

    // Assess
    expect(act).toThrow(InvalidOptionValueError);
    expect(act).toThrow('--observation-days must be a whole number from 1 to 365 (how long to watch)');
  });
});

describe('textOption', () => {
  it('accepts line breaks only where allowed', () => {
    // Assess
    expect(textOption('reason', 'line one\nline two', 100, '\n\t')).toBe('line one\nline two');
    expect(() => textOption('comment', 'line one\nline two', 100)).toThrow(
      /--comment contains control characters/,
    );
  });

  it('rejects text over the limit', () => {
    // Assess
    expect(() => textOption('comment', 'x'.repeat(11), 10)).toThrow(
      '--comment is 11 characters long; at most 10',
    );
  });
});

describe('actorName', () => {
  it('prefers the explicit name, then the login name, then a fixed label', () => {
    // Assess
    expect(actorName('carol', { USER: 'alice' })).toBe('carol');
    expect(actorName(undefined, { USER: 'alice' })).toBe('alice');
    expect(actorName(undefined, { USER: 'bad\u001bname' })).toBe('kms-deletion-guard CLI');
    expect(actorName(undefined, {})).toBe('kms-deletion-guard CLI');
  });
});
