import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_SPECS, main } from '../../../bin/cli.js';
import { commandOptions, integerOption } from '../../../lib/cli/args.js';
import { MissingLogGroupError } from '../../../lib/cli/doctor.js';
import {
  ApprovalAlreadyAnsweredError,
  ExecutionAlreadyRunningError,
  ExecutionNotFoundError,
  ExecutionNotRunningError,
  InvalidKeyArgumentError,
  InvalidOptionValueError,
  KeyNotFoundError,
  MissingRegionError,
  MissingStateMachineArnError,
  NoPendingApprovalError,
  runCommand,
  UsageError,
} from '../../../lib/cli/errors.js';
import { EXIT_CODES } from '../../../lib/cli/exit-codes.js';
import { bufferedIo } from '../../../lib/cli/io.js';
import { ExecutionNameTakenError } from '../../../lib/cli/start.js';
import { PACKAGE_ROOT } from '../../../lib/package-files.js';

const COMMAND_NAMES = COMMAND_SPECS.map((spec) => spec.name);

describe('kms-deletion-guard --help (the overview)', () => {
  it.each([['--help'], ['-h'], ['help']])(
    '%s lists every command with its description, exit 0',
    async (word) => {
      // Prepare
      const io = bufferedIo();

      // Act
      const code = await main([word], io);

      // Assess
      expect(code).toBe(0);
      expect(io.err()).toBe('');
      const out = io.out();
      expect(out).toMatch(/^Usage: kms-deletion-guard <command>/);
      for (const spec of COMMAND_SPECS) {
        // One line per command: the description is not wrapped onto a second line.
        expect(out).toMatch(new RegExp(`^ {2}${spec.name} +${escapeRegExp(spec.description)}$`, 'm'));
      }
      expect(out).toContain('Run kms-deletion-guard <command> --help for its options.');
      expect(out).toContain('README.md, "Exit codes"');
      for (const { code: exitCode } of Object.values(EXIT_CODES)) {
        expect(out).toMatch(new RegExp(`^ {2}${exitCode} {2}\\S`, 'm'));
      }
    },
  );

  it('prints the overview on stderr with exit 2 when no command is given', async () => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main([], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toMatch(/^Usage: kms-deletion-guard <command>/);
    expect(io.err()).toContain('Run kms-deletion-guard <command> --help for its options.');
  });

  it('covers every command the design names', () => {
    // Assess
    expect(COMMAND_NAMES).toEqual([
      'start',
      'status',
      'list',
      'approve',
      'reject',
      'candidates',
      'doctor',
      'simulate',
      'demo',
    ]);
  });
});

describe('<command> --help', () => {
  it.each(COMMAND_NAMES)(
    '%s --help prints usage, description and every option on stdout, exit 0',
    async (name) => {
      // Prepare
      const spec = COMMAND_SPECS.find((s) => s.name === name);
      const io = bufferedIo();

      // Act
      // No AWS settings in the environment: exit 0 proves the command stopped at its help.
      const code = await main([name, '--help'], io);

      // Assess
      expect(code).toBe(0);
      expect(io.err()).toBe('');
      const out = io.out();
      expect(out.split('\n')[0]).toBe(
        `Usage: kms-deletion-guard ${name}${spec?.argument ? ` ${spec.argument.name}` : ''} [options]`,
      );
      expect(spec?.description).toMatch(/^[A-Z].{20,84}\.$/);
      expect(out).toContain(`\n${spec?.description}\n`);
      for (const [option, { description }] of Object.entries(spec ? commandOptions(spec) : {})) {
        expect(description).not.toBe('');
        expect(out).toMatch(
          new RegExp(`--${option}\\b.*  ${escapeRegExp(description.split(' ').slice(0, 3).join(' '))}`),
        );
      }
      if (spec?.argument) {
        expect(out).toContain(`Argument:\n  ${spec.argument.name}  `);
      }
    },
  );

  it.each(COMMAND_NAMES)('%s: -h and `help <command>` print the same help as --help', async (name) => {
    // Prepare
    const long = bufferedIo();
    const short = bufferedIo();
    const topic = bufferedIo();

    // Act
    await main([name, '--help'], long);
    const shortCode = await main([name, '-h'], short);
    const topicCode = await main(['help', name], topic);

    // Assess
    expect(shortCode).toBe(0);
    expect(topicCode).toBe(0);
    expect(short.out()).toBe(long.out());
    expect(topic.out()).toBe(long.out());
  });

  it('keeps every help line within 100 columns', async () => {
    // Prepare
    const outputs: string[] = [];
    for (const args of [['--help'], ...COMMAND_NAMES.map((name) => [name, '--help'])]) {
      const io = bufferedIo();
      await main(args, io);
      outputs.push(io.out());
    }

    // Assess
    const long = outputs.flatMap((out) => out.split('\n')).filter((line) => line.length > 100);
    expect(long).toEqual([]);
  });
});

describe('unknown commands and options', () => {
  it.each([
    ['stat', 'status'],
    ['stauts', 'status'],
    ['aprove', 'approve'],
    ['simulat', 'simulate'],
    ['candiates', 'candidates'],
  ])('%s: one stderr line suggesting %s and pointing to --help, exit 2', async (typed, meant) => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main([typed, 'x'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toBe(
      `kms-deletion-guard: unknown command '${typed}' (did you mean '${meant}'?). ` +
        'Run kms-deletion-guard --help for the commands.\n',
    );
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    '%s is an unknown command, not a property every object has',
    async (word) => {
      // Prepare
      const io = bufferedIo();

      // Act
      const code = await main([word], io);

      // Assess
      expect(code).toBe(2);
      expect(io.err()).toBe(
        `kms-deletion-guard: unknown command '${word}'. Run kms-deletion-guard --help for the commands.\n`,
      );
    },
  );

  it('shows a command word with control characters harmlessly', async () => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main(['\u001b[2Jstatus'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).not.toContain('\u001b');
    expect(io.err()).toContain("unknown command '\\u001b[2Jstatus'");
    expect(io.err().trimEnd().split('\n')).toHaveLength(1);
  });

  it.each([
    ['list', '--runing', '--running'],
    ['start', '--obervation-days', '--observation-days'],
    ['candidates', '--min-idle-day', '--min-idle-days'],
    ['doctor', '--loggroup', '--log-group'],
    ['simulate', '--ful', '--full'],
    ['demo', '--dri', '--dir'],
    ['approve', '--coment', '--comment'],
  ])('%s %s: one stderr line suggesting %s, exit 2', async (command, typed, meant) => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main([command, 'x', typed], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toMatch(
      new RegExp(
        `^kms-deletion-guard: Unknown option '${typed}' \\(did you mean '${meant}'\\?\\)\\. ` +
          `Usage: kms-deletion-guard ${command} .*\\(kms-deletion-guard ${command} --help lists the options\\)\\.\\n$`,
      ),
    );
  });

  it.each(COMMAND_SPECS.map((spec) => [spec.name, spec] as const))(
    '%s suggests each of its options for a typo of it',
    async (_name, spec) => {
      // Prepare
      const typos = Object.keys(commandOptions(spec)).map((option) => [swapNeighbours(option), option]);

      for (const [typo, option] of typos) {
        const io = bufferedIo();

        // Act
        const code = await main([spec.name, typo ?? ''], io);

        // Assess
        expect(code).toBe(2);
        expect(io.err()).toContain(`(did you mean '--${option}'?)`);
      }
    },
  );
});

describe('exit codes', () => {
  it('are 0 for success, 1 for a command that ran and failed, 2 for a usage error', () => {
    // Assess
    expect(EXIT_CODES.success.code).toBe(0);
    expect(EXIT_CODES.failure.code).toBe(1);
    expect(EXIT_CODES.usage.code).toBe(2);
  });

  it.each([
    ['UsageError', new UsageError('x')],
    ['InvalidOptionValueError', new InvalidOptionValueError('limit', 'x')],
    ['InvalidKeyArgumentError', new InvalidKeyArgumentError('x')],
    ['MissingStateMachineArnError', new MissingStateMachineArnError()],
    ['MissingRegionError', new MissingRegionError()],
    ['MissingLogGroupError', new MissingLogGroupError()],
  ])('%s is a usage error (2)', (_name, error) => {
    // Assess
    expect(error.exitCode).toBe(EXIT_CODES.usage.code);
  });

  it.each([
    ['KeyNotFoundError', new KeyNotFoundError('k', 'eu-west-1')],
    ['ExecutionNotFoundError', new ExecutionNotFoundError('x')],
    ['ExecutionAlreadyRunningError', new ExecutionAlreadyRunningError('k', 'e')],
    ['ExecutionNotRunningError', new ExecutionNotRunningError('e', 'SUCCEEDED')],
    ['NoPendingApprovalError', new NoPendingApprovalError('e', null)],
    ['ApprovalAlreadyAnsweredError', new ApprovalAlreadyAnsweredError('e', 'TaskTimedOut')],
    ['ExecutionNameTakenError', new ExecutionNameTakenError('n')],
  ])('%s is a failure (1)', (_name, error) => {
    // Assess
    expect(error.exitCode).toBe(EXIT_CODES.failure.code);
  });

  it('makes any other error (an AWS SDK error) a failure (1) with one line', async () => {
    // Prepare
    const io = bufferedIo();
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });

    // Act
    const code = await runCommand(io, [], () => Promise.reject(denied));

    // Assess
    expect(code).toBe(EXIT_CODES.failure.code);
    expect(io.err()).toBe(
      'kms-deletion-guard: AccessDeniedException: not allowed (your credentials lack this permission)\n',
    );
  });

  it('gives a bad option value and a missing setting exit 2 from a command, before any call', async () => {
    // Prepare
    const badValue = bufferedIo();
    const noMachine = bufferedIo({ env: { AWS_REGION: 'eu-west-1' } });

    // Act
    const badValueCode = await main(['list', '--limit', '0', '--state-machine-arn', 'x'], badValue);
    const noMachineCode = await main(['list'], noMachine);

    // Assess
    expect(badValueCode).toBe(2);
    expect(badValue.err()).toContain('--limit must be a whole number from 1 to 100000');
    expect(noMachineCode).toBe(2);
    expect(noMachine.err()).toContain('The state machine is not known');
    expect(() => integerOption('limit', '0', 1, 5, 'x')).toThrow(InvalidOptionValueError);
  });

  it('are listed in the README, each code the table defines', () => {
    // Prepare
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Exit codes'));

    // Assess
    expect(readme).toContain('### Exit codes');
    const listed = [...section.matchAll(/^- `(\d+)` /gm)].map((match) => Number(match[1]));
    expect(listed).toEqual(Object.values(EXIT_CODES).map(({ code }) => code));
  });
});

/** `--name` with two different neighbouring letters near its middle swapped: the commonest typo. */
function swapNeighbours(option: string): string {
  let i = Math.max(1, Math.floor(option.length / 2));
  while (i < option.length - 1 && option[i] === option[i - 1]) {
    i += 1;
  }
  return `--${option.slice(0, i - 1)}${option[i]}${option[i - 1]}${option.slice(i + 1)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
