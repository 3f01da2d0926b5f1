/**
 * Text that came from outside (execution input, CLI arguments, tag values): how to tell whether it
 * holds control characters, and how to quote it safely in a message.
 */

/** C0 controls, DEL and C1 controls (code points 0-31 and 127-159). */
export function isControlCharacter(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

/** True when `value` holds a control character other than those in `allowed` (e.g. `'\n\t'`). */
export function hasControlCharacter(value: string, allowed = ''): boolean {
  for (const char of value) {
    if (isControlCharacter(char.charCodeAt(0)) && !allowed.includes(char)) {
      return true;
    }
  }
  return false;
}

/**
 * Quotes a value that came from outside for an error message: JSON-escaped (so control characters
 * show as escapes instead of acting on a terminal or log line) and cut to `max` characters.
 */
export function quoteUntrusted(value: string, max = 80): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  // JSON escapes C0 controls already; DEL, C1 and the Unicode line separators it leaves raw.
  let quoted = '';
  for (const char of JSON.stringify(cut)) {
    const code = char.charCodeAt(0);
    quoted +=
      isControlCharacter(code) || code === 0x2028 || code === 0x2029
        ? `\\u${code.toString(16).padStart(4, '0')}`
        : char;
  }
  return quoted;
}
