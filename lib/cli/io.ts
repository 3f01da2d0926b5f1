/**
 * What a CLI command may touch of the outside world besides AWS: its two output streams, whether
 * they are terminals, the environment and the clock. Commands take it as an argument so tests run
 * them in-process and read exactly what a person would see.
 */
export interface CliIo {
  /** Standard output: the data a command produces (text as given; callers end their lines). */
  readonly stdout: (text: string) => void;
  /** Standard error: messages, errors and progress. */
  readonly stderr: (text: string) => void;
  readonly stdoutIsTTY: boolean;
  /** Progress indicators are drawn only on a terminal, never into a file or pipe. */
  readonly stderrIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now: () => Date;
}

/** The real process: its streams, environment and clock. */
export function processIo(): CliIo {
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    now: () => new Date(),
  };
}

/** A CliIo that keeps what was written, for tests and for callers that post-process output. */
export interface BufferedIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

export interface BufferedIoOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY?: boolean;
  readonly stderrIsTTY?: boolean;
  readonly now?: () => Date;
}

export function bufferedIo(options: BufferedIoOptions = {}): BufferedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text) => {
      out.push(text);
    },
    stderr: (text) => {
      err.push(text);
    },
    stdoutIsTTY: options.stdoutIsTTY ?? false,
    stderrIsTTY: options.stderrIsTTY ?? false,
    env: options.env ?? {},
    now: options.now ?? (() => new Date()),
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

/**
 * Text from AWS or from an execution's input, made safe to print on a terminal: control characters
 * (escape sequences, line breaks) are shown as `\uXXXX` so a crafted value cannot move the cursor,
 * recolour the screen or forge extra lines.
 */
export function printable(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    out +=
      code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029
        ? `\\u${code.toString(16).padStart(4, '0')}`
        : char;
  }
  return out;
}

/** A plain-text table: a header row, columns padded to their widest cell, the last column unpadded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [headers, ...rows].map((row) => row.map((cell) => printable(cell)));
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
