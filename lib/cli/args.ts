import { parseArgs } from 'node:util';
import { hasControlCharacter, quoteUntrusted } from '../../lambdas/domain/untrusted.js';
import { InvalidOptionValueError, runCommand, UsageError } from './errors.js';
import type { CliIo } from './io.js';

/**
 * Command-line parsing shared by the commands: strict (an unknown or misspelt option is an error,
 * never ignored), with the AWS options every command understands, and validators that reject a bad
 * value with a named error before any AWS call is made.
 */

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** Options every command that talks to AWS accepts. */
export const AWS_OPTIONS = {
  region: { type: 'string' },
  profile: { type: 'string' },
  'state-machine-arn': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, OptionSpec>;

export interface CommandSpec {
  /** Shown with `--help` and after a usage error. */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly minPositionals: number;
  readonly maxPositionals: number;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly help: boolean;
  /** A string option's value, or undefined when it was not given. */
  string(name: string): string | undefined;
  flag(name: string): boolean;
}

const PARSE_ERROR = /^ERR_PARSE_ARGS_/;

export function parseCommandArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...spec.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (error instanceof Error && typeof code === 'string' && PARSE_ERROR.test(code)) {
      throw new UsageError(
        `${error.message.replace(/\s+/g, ' ').trim()} Usage: kms-deletion-guard ${spec.usage}`,
      );
    }
    throw error;
  }
  const values = parsed.values as Record<string, string | boolean | (string | boolean)[] | undefined>;
  const help = values.help === true;
  const positionals = parsed.positionals;
  if (!help && positionals.length < spec.minPositionals) {
    throw new UsageError(`Missing argument. Usage: kms-deletion-guard ${spec.usage}`);
  }
  if (!help && positionals.length > spec.maxPositionals) {
    const extra = positionals.slice(spec.maxPositionals).map((p) => quoteUntrusted(p, 40));
    throw new UsageError(`Unexpected argument ${extra.join(' ')}. Usage: kms-deletion-guard ${spec.usage}`);
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
 * Runs a command: parses its command line, answers `--help` with its usage, else runs `body`. Errors
 * become one line and an exit code (runCommand).
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
      io.stdout(`Usage: kms-deletion-guard ${spec.usage}\n`);
      return 0;
    }
    return body(args);
  });
}
