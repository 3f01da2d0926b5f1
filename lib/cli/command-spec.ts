/**
 * The shape of a command's table: what the parser reads and what `--help` prints, in a module of
 * its own so that the parser (args.ts) and the help (help.ts) both depend on it and not on each other.
 */

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** What a string option's value is called in the usage and help, such as `N` or `TEXT`. */
  readonly value?: string;
  /** One line for `--help`. */
  readonly description: string;
}

/**
 * A command's one source of truth: its name, what it does, its argument and options. The parser
 * reads it, and the usage line, `--help` and the usage errors are all made from it.
 */
export interface CommandSpec {
  readonly name: string;
  /** One line: what the command does. */
  readonly description: string;
  /** The command's one required argument, when it takes one (as `<keyId|keyArn|alias>`). */
  readonly argument?: { readonly name: string; readonly description: string };
  readonly options: Readonly<Record<string, OptionSpec>>;
}
