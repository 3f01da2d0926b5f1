import { FALLBACK_SUBJECT, MAX_SUBJECT_LENGTH, toSubject } from '../../../lambdas/domain/subject.js';

// What SNS Publish accepts as a subject: ASCII, no line breaks or control characters, fewer than
// 100 characters, beginning with a letter, number or punctuation mark.
function isValidSubject(subject: string): boolean {
  return (
    subject.length > 0 &&
    subject.length < 100 &&
    /^[\x20-\x7e]+$/.test(subject) &&
    /^[A-Za-z0-9\p{P}]/u.test(subject)
  );
}

describe('toSubject', () => {
  it('allows 99 characters, the most SNS accepts', () => {
    // Assess
    expect(MAX_SUBJECT_LENGTH).toBe(99);
  });

  it('keeps a text of exactly 99 characters as it is', () => {
    // Prepare
    const text = `K${'x'.repeat(98)}`;

    // Act
    const subject = toSubject(text);

    // Assess
    expect(subject).toBe(text);
    expect(isValidSubject(subject)).toBe(true);
  });

  it('cuts a text of exactly 100 characters to 99, ending in ...', () => {
    // Prepare
    const text = `K${'x'.repeat(99)}`;

    // Act
    const subject = toSubject(text);

    // Assess
    expect(subject).toBe(`K${'x'.repeat(95)}...`);
    expect(subject).toHaveLength(99);
    expect(isValidSubject(subject)).toBe(true);
  });

  it('makes any text ASCII, one line and at most 99 characters', () => {
    // Prepare
    const raw = `Schlüssel «${'x'.repeat(200)}»\nzweite Zeile`;

    // Act
    const subject = toSubject(raw);

    // Assess
    expect(isValidSubject(subject)).toBe(true);
    expect(subject.startsWith('Schlussel')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it.each([
    ['a space', '  KMS key alias/x', 'KMS key alias/x'],
    ['a line break', '\nKMS key alias/x', 'KMS key alias/x'],
    ['a symbol', '$ KMS key alias/x', 'KMS key alias/x'],
    ['symbols and spaces', '~ | > KMS key', 'KMS key'],
  ])('drops %s before the first letter, number or punctuation mark', (_label, raw, expected) => {
    // Act
    const subject = toSubject(raw);

    // Assess
    expect(subject).toBe(expected);
    expect(isValidSubject(subject)).toBe(true);
  });

  it.each([
    ['a punctuation mark', '(RECENTLY_USED) key'],
    ['a number', '42 keys'],
  ])('keeps a subject that begins with %s', (_label, raw) => {
    // Act
    const subject = toSubject(raw);

    // Assess
    expect(subject).toBe(raw);
  });

  it('gives a fixed subject when nothing of the text can stay', () => {
    // Act
    const subjects = [toSubject(''), toSubject(' \n\t'), toSubject('$$$ +++')];

    // Assess
    expect(subjects).toEqual([FALLBACK_SUBJECT, FALLBACK_SUBJECT, FALLBACK_SUBJECT]);
  });

  it('keeps the suffix whole when the text before it is cut', () => {
    // Prepare
    const text = `Approve disabling KMS key alias/${'a'.repeat(120)}`;

    // Act
    const subject = toSubject(text, '(1234abcd...)');

    // Assess
    expect(subject).toHaveLength(99);
    expect(subject.endsWith('... (1234abcd...)')).toBe(true);
    expect(subject.startsWith('Approve disabling KMS key alias/aaa')).toBe(true);
    expect(isValidSubject(subject)).toBe(true);
  });

  it('joins text and suffix with one space when both fit, up to 99 characters', () => {
    // Prepare: 85 + 1 + 13 = 99 characters.
    const text = `K${'x'.repeat(84)}`;

    // Act
    const fits = toSubject(text, '(1234abcd...)');
    const oneMore = toSubject(`${text}x`, '(1234abcd...)');

    // Assess
    expect(fits).toBe(`${text} (1234abcd...)`);
    expect(oneMore).toHaveLength(99);
    expect(oneMore.endsWith('... (1234abcd...)')).toBe(true);
  });

  it('cuts a suffix that cannot fit at all as part of the whole', () => {
    // Act
    const subject = toSubject('K', 'y'.repeat(150));

    // Assess
    expect(subject).toHaveLength(99);
    expect(subject.startsWith('K yyy')).toBe(true);
    expect(isValidSubject(subject)).toBe(true);
  });

  it('uses the suffix alone when the text has nothing that may stay', () => {
    // Act
    const subject = toSubject('$$', '(1234abcd...)');

    // Assess
    expect(subject).toBe('(1234abcd...)');
  });
});
