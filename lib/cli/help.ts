import { CLI_PACKAGE } from '../../lambdas/contracts/cli.js';
import type { CommandSpec, OptionSpec } from './command-spec.js';
import { EXIT_CODES } from './exit-codes.js';

/**
 * Help text, made from the same command specs the parser reads, so what `--help` lists is exactly
 * what the command accepts.
 */

/** The command as a person types it: the `bin` the package installs. */
export const PROGRAM = CLI_PACKAGE;

/** Help is wrapped to this width: readable in an 80-column terminal with a little overflow at worst. */
const WIDTH = 100;

/** `kms-deletion-guard start <keyId|keyArn|alias> [options]`. */
export function synopsis(spec: CommandSpec): string {
  return `${PROGRAM} ${spec.name}${spec.argument ? ` ${spec.argument.name}` : ''} [options]`;
}

/** The end of a usage error's line: the synopsis and where the options are listed. */
export function usageHint(spec: CommandSpec): string {
  return `Usage: ${synopsis(spec)} (${PROGRAM} ${spec.name} --help lists the options).`;
}

/** Words of `text` in lines of at most `width`, every line after the first indented by `indent`. */
function wrap(text: string, indent: number, width = WIDTH): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Two columns: a term and its description, wrapped under the description column. */
function twoColumns(rows: readonly (readonly [string, string])[]): string {
  const column = Math.max(...rows.map(([term]) => term.length)) + 4;
  return rows.map(([term, text]) => `${`  ${term}`.padEnd(column)}${wrap(text, column)}\n`).join('');
}

function optionTerm(name: string, option: OptionSpec): string {
  const long = `--${name}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`;
  return option.short ? `-${option.short}, ${long}` : `    ${long}`;
}

/** `<command> --help`: usage, what the command does, its argument and every option. */
export function commandHelp(spec: CommandSpec, options: Readonly<Record<string, OptionSpec>>): string {
  const parts = [`Usage: ${synopsis(spec)}\n`, `${wrap(spec.description, 0)}\n`];
  if (spec.argument) {
    parts.push(`Argument:\n${twoColumns([[spec.argument.name, spec.argument.description]])}`);
  }
  const rows = Object.entries(options).map(
    ([name, option]) => [optionTerm(name, option), option.description] as const,
  );
  parts.push(`Options:\n${twoColumns(rows)}`);
  return parts.join('\n');
}

/** `kms-deletion-guard --help`: every command in a line, then where to read more, then the exit codes. */
export function overviewHelp(specs: readonly CommandSpec[]): string {
  const codes = Object.values(EXIT_CODES).map(({ code, meaning }) => [String(code), meaning] as const);
  return [
    `Usage: ${PROGRAM} <command> [arguments] [options]\n`,
    `${wrap(
      'Retires unused AWS KMS keys safely: disables a key, watches CloudTrail for calls that fail ' +
        'because of it, and schedules its deletion only after a person approves.',
      0,
    )}\n`,
    `Commands:\n${twoColumns(specs.map((spec) => [spec.name, spec.description]))}`,
    `Examples:\n${[
      `${PROGRAM} candidates --min-idle-days 90 --region eu-west-1`,
      `${PROGRAM} start alias/legacy-app --reason "app retired"`,
      `${PROGRAM} simulate my-scenario.json`,
    ]
      .map((line) => `  ${line}\n`)
      .join('')}`,
    `Run ${PROGRAM} <command> --help for its options.\n`,
    `Exit codes (also in README.md, "Exit codes"):\n${twoColumns(codes)}`,
  ].join('\n');
}
