import { parseArgs } from 'node:util';
import { hasControlCharacter, quoteUntrusted } from '../../lambdas/domain/untrusted.js';
import type { CommandSpec, OptionSpec } from './command-spec.js';
import { InvalidOptionValueError, runCommand, UsageError } from './errors.js';
import { EXIT_SUCCESS } from './exit-codes.js';
import { commandHelp, usageHint } from './help.js';
import { type CliIo, printable } from './io.js';
import { didYouMean } from './nearest.js';

export type { CommandSpec, OptionSpec } from './command-spec.js';

/**
 * Command-line parsing shared by the commands: strict (an unknown or misspelt option is an error,
 * never ignored, and names the option probably meant), with the AWS options every command
 * understands, and validators that reject a bad value with a named error before any AWS call is made.
 */

/** Options every command that talks to AWS accepts. */
export const AWS_OPTIONS = {
  'state-machine-arn': {
    type: 'string',
    value: 'ARN',
    description:
      'the deployed state machine (the stack output StateMachineArn); default: KDG_STATE_MACHINE_ARN',
  },
  region: {
    type: 'string',
    value: 'REGION',
    description: "the AWS Region; default: AWS_REGION, AWS_DEFAULT_REGION, else the profile's Region",
  },
  profile: {
    type: 'string',
    value: 'PROFILE',
    description: 'the AWS profile whose credentials to use; default: AWS_PROFILE or the default credentials',
  },
  json: {
    type: 'boolean',
    description: 'print JSON on stdout instead of text; an error becomes {"error":{"name":…,"message":…}}',
  },
} as const satisfies Record<string, OptionSpec>;

/** Every command answers `--help` / `-h`, so the parser adds it rather than each command's table. */
export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly help: boolean;
  /** A string option's value, or undefined when it was not given. */
  string(name: string): string | undefined;
  flag(name: string): boolean;
}

const PARSE_ERROR = /^ERR_PARSE_ARGS_/;

/** The options a command accepts: its own and `--help`. */
export function commandOptions(spec: CommandSpec): Readonly<Record<string, OptionSpec>> {
  return { ...spec.options, help: HELP_OPTION };
}

/** A name a person typed, safe to show between quotes on a terminal and short enough for one line. */
export function shownName(name: string): string {
  return printable(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}

/**
 * The first option not in `options`, found before parsing for real so the error can name the
 * option it probably meant (Node's own message would only say it is unknown).
 */
function unknownOption(
  argv: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): string | null {
  const { tokens } = parseArgs({ args: [...argv], options: { ...options }, strict: false, tokens: true });
  const token = tokens.find((t) => t.kind === 'option' && !Object.hasOwn(options, t.name));
  if (token?.kind !== 'option') {
    return null;
  }
  const typed = token.rawName;
  // Compared without dashes: `-j` is not one edit away from `-h` in any sense a person means.
  const near = didYouMean(typed.replace(/^-+/, ''), Object.keys(options));
  return `Unknown option '${shownName(typed)}'${near ? ` (did you mean '--${near}'?)` : ''}.`;
}

export function parseCommandArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const options = commandOptions(spec);
  const unknown = unknownOption(argv, options);
  if (unknown) {
    throw new UsageError(`${unknown} ${usageHint(spec)}`);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof Error && typeof code === 'string' && PARSE_ERROR.test(code)) {
      const message = error.message.replace(/\s+/g, ' ').trim();
      throw new UsageError(`${message}${/[.!?]$/.test(message) ? '' : '.'} ${usageHint(spec)}`);
    }
    throw error;
  }
  const values = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  const help = values.help === true;
  const positionals = parsed.positionals;
  const expected = spec.argument ? 1 : 0;
  if (!help && positionals.length < expected) {
    throw new UsageError(`Missing argument. ${usageHint(spec)}`);
  }
  if (!help && positionals.length > expected) {
    const extra = positionals.slice(expected).map((p) => quoteUntrusted(p, 40));
    throw new UsageError(`Unexpected argument ${extra.join(' ')}. ${usageHint(spec)}`);
  }
  return {
    positionals,
    help,
    string: (name) => {
      const value = values[name];
      return typeof value === 'string' ? value : undefined;
    },
    flag: (name) => values[name] === true,
  };
}

/** A whole number in [min, max], or undefined when the option was not given. */
export function integerOption(
  option: string,
  raw: string | undefined,
  min: number,
  max: number,
  meaning: string,
): number | undefined {
  if (raw === undefined) {
    return undefined;
  }
  const value = /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionValueError(
      option,
      `--${option} must be a whole number from ${min} to ${max} (${meaning}); received ${quoteUntrusted(raw, 40)}.`,
    );
  }
  return value;
}

/**
 * Free text for the execution input or an approval record: bounded, and without control characters
 * except those in `allowed`, because it ends up in e-mails, tags and the Fail state's cause.
 */
export function textOption(
  option: string,
  raw: string | undefined,
  maxLength: number,
  allowed = '',
): string | undefined {
  if (raw === undefined) {
    return undefined;
  }
  if (raw.length > maxLength) {
    throw new InvalidOptionValueError(
      option,
      `--${option} is ${raw.length} characters long; at most ${maxLength} are accepted.`,
    );
  }
  if (hasControlCharacter(raw, allowed)) {
    throw new InvalidOptionValueError(
      option,
      `--${option} contains control characters${allowed.includes('\n') ? ' other than line breaks and tabs' : ' (such as a line break)'}; remove them.`,
    );
  }
  return raw;
}

/** Who is acting: --by / --requested-by, else the login name from the environment. */
export function actorName(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const fromEnv = env.KDG_USER ?? env.USER ?? env.USERNAME ?? env.LOGNAME;
  const name = explicit ?? (fromEnv && !hasControlCharacter(fromEnv) ? fromEnv : undefined);
  return name && name.trim() !== '' ? name.trim() : 'kms-deletion-guard CLI';
}

/**
 * Runs a command: parses its command line, answers `--help` with its help (stdout, exit 0), else
 * runs `body`. Errors become one line and an exit code (runCommand).
 */
export function runParsedCommand(
  io: CliIo,
  argv: readonly string[],
  spec: CommandSpec,
  body: (args: ParsedArgs) => Promise<number>,
): Promise<number> {
  return runCommand(io, argv, async () => {
    const args = parseCommandArgs(argv, spec);
    if (args.help) {
      io.stdout(commandHelp(spec, commandOptions(spec)));
      return EXIT_SUCCESS;
    }
    return body(args);
  });
}
