/**
 * E-mail subjects, all built here. SNS Publish takes a subject only when it is ASCII text that
 * begins with a letter, number or punctuation mark, has no line breaks or control characters, and
 * is less than 100 characters long. A subject it refuses fails the whole publish, and with it the
 * step that asks for an approval or reports evidence, so every subject is made to fit, whatever
 * aliases and free text went into it.
 */

/** SNS wants fewer than 100 characters. */
export const MAX_SUBJECT_LENGTH = 99;

/** The subject when nothing of the text survives (SNS refuses an empty one). */
export const FALLBACK_SUBJECT = 'kms-deletion-guard';

const ELLIPSIS = '...';

/** Printable ASCII on one line: accents become their base letter, anything else a space. */
function asciiLine(text: string): string {
  return (
    text
      .normalize('NFKD')
      // Accents become their base letter (Schlüssel -> Schlussel), not a gap.
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^\x20-\x7e]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/** Drops what may not open a subject: spaces and symbols such as `$ + < = > ^ ` | ~`. */
function fromValidStart(text: string): string {
  return text.replace(/^[^A-Za-z0-9\p{P}]+/u, '');
}

function cut(text: string, length: number): string {
  return `${text.slice(0, Math.max(0, length - ELLIPSIS.length)).trimEnd()}${ELLIPSIS}`;
}

/**
 * A valid SNS subject from `text`, cut short with `...` when too long. `suffix`, when given, follows
 * after a space and is kept whole when the text is cut (e.g. the key ID after a long alias).
 */
export function toSubject(text: string, suffix = ''): string {
  const head = fromValidStart(asciiLine(text));
  const tail = asciiLine(suffix);
  const whole = fromValidStart([head, tail].filter(Boolean).join(' '));
  if (whole.length <= MAX_SUBJECT_LENGTH) {
    return whole || FALLBACK_SUBJECT;
  }
  const room = MAX_SUBJECT_LENGTH - (tail ? tail.length + 1 : 0);
  if (head === '' || room <= ELLIPSIS.length) {
    return cut(whole, MAX_SUBJECT_LENGTH);
  }
  return [cut(head, room), tail].filter(Boolean).join(' ');
}
