import { AwsError } from './errors.js';

/**
 * CloudWatch Logs filter patterns, the subset that matters for CloudTrail records:
 *
 * - the empty pattern matches every event;
 * - JSON patterns `{ <selector> <op> <value> }` with `=`, `!=`, `<`, `<=`, `>`, `>=`, `IS NULL`,
 *   `IS TRUE`, `IS FALSE`, `NOT EXISTS`, combined with `&&`, `||` and parentheses; selectors
 *   like `$.a.b`, `$.resources[0].ARN`; values quoted (`"alias/app*"`, `*` is a wildcard) or bare;
 * - term patterns: `DisabledException "is disabled"` (all terms), `?a ?b` (any), `-term` (none).
 *
 * A comparison on a property the event does not have is false, for `!=` too (CloudWatch does not
 * treat a missing property as "not equal"), so a query written as `errorCode != X` never finds
 * successful calls.
 */
export type EventMatcher = (event: { message(): string; json(): unknown }) => boolean;

export class FilterPatternError extends AwsError {
  constructor(pattern: string, reason: string) {
    super('InvalidParameterException', `Invalid filter pattern '${pattern}': ${reason}`);
    this.name = 'FilterPatternError';
  }
}

export type Segment = string | number;

type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'cmp'; path: Segment[]; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: Value }
  | { kind: 'is'; path: Segment[]; what: 'NULL' | 'TRUE' | 'FALSE' }
  | { kind: 'notExists'; path: Segment[] };

interface Value {
  readonly text: string;
  readonly quoted: boolean;
  readonly number: number | null;
}

interface Token {
  readonly type: 'punct' | 'op' | 'selector' | 'string' | 'word';
  readonly text: string;
}

const PUNCT = new Set(['{', '}', '(', ')']);

function tokenize(source: string, pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (PUNCT.has(c)) {
      tokens.push({ type: 'punct', text: c });
      i += 1;
    } else if (source.startsWith('&&', i) || source.startsWith('||', i)) {
      tokens.push({ type: 'op', text: source.slice(i, i + 2) });
      i += 2;
    } else if (/[=!<>]/.test(c)) {
      const two = source.slice(i, i + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : c;
      if (op === '!') {
        throw new FilterPatternError(pattern, "'!' must be followed by '='");
      }
      tokens.push({ type: 'op', text: op });
      i += op.length;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < source.length && source.charAt(j) !== '"'; j += 1) {
        if (source.charAt(j) === '\\' && j + 1 < source.length) {
          j += 1;
        }
        text += source.charAt(j);
      }
      if (j >= source.length) {
        throw new FilterPatternError(pattern, 'unterminated quoted string');
      }
      tokens.push({ type: 'string', text });
      i = j + 1;
    } else {
      let j = i;
      while (j < source.length && !/[\s{}()=!<>"&|]/.test(source.charAt(j))) {
        j += 1;
      }
      const text = source.slice(i, j);
      tokens.push({ type: text.startsWith('$') ? 'selector' : 'word', text });
      i = j;
    }
  }
  return tokens;
}

function parseSelector(text: string, pattern: string): Segment[] {
  const path: Segment[] = [];
  const re = /\.([A-Za-z0-9_\-@:]+)|\[(\d+)\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < text.length) {
    const at = re.lastIndex;
    const match = re.exec(text);
    if (!match || match.index !== at) {
      throw new FilterPatternError(pattern, `bad selector '${text}'`);
    }
    path.push(match[1] !== undefined ? match[1] : Number(match[2]));
  }
  if (path.length === 0) {
    throw new FilterPatternError(pattern, `bad selector '${text}'`);
  }
  return path;
}

class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly pattern: string,
  ) {}

  parse(): Expr {
    this.expect('{');
    const expr = this.or();
    this.expect('}');
    if (this.pos !== this.tokens.length) {
      throw new FilterPatternError(this.pattern, 'unexpected text after }');
    }
    return expr;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private next(): Token {
    const token = this.tokens[this.pos];
    if (!token) {
      throw new FilterPatternError(this.pattern, 'unexpected end');
    }
    this.pos += 1;
    return token;
  }

  private expect(text: string): void {
    const token = this.next();
    if (token.text !== text) {
      throw new FilterPatternError(this.pattern, `expected '${text}' but found '${token.text}'`);
    }
  }

  private or(): Expr {
    let left = this.and();
    while (this.peek()?.text === '||') {
      this.pos += 1;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Expr {
    let left = this.primary();
    while (this.peek()?.text === '&&') {
      this.pos += 1;
      left = { kind: 'and', left, right: this.primary() };
    }
    return left;
  }

  private primary(): Expr {
    const token = this.next();
    if (token.type === 'punct' && token.text === '(') {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (token.type !== 'selector') {
      throw new FilterPatternError(this.pattern, `expected a selector ($.field) but found '${token.text}'`);
    }
    const path = parseSelector(token.text, this.pattern);
    const op = this.next();
    if (op.type === 'word' && op.text.toUpperCase() === 'IS') {
      const what = this.next().text.toUpperCase();
      if (what !== 'NULL' && what !== 'TRUE' && what !== 'FALSE') {
        throw new FilterPatternError(
          this.pattern,
          `IS must be followed by NULL, TRUE or FALSE, not '${what}'`,
        );
      }
      return { kind: 'is', path, what };
    }
    if (op.type === 'word' && op.text.toUpperCase() === 'NOT') {
      if (this.next().text.toUpperCase() !== 'EXISTS') {
        throw new FilterPatternError(this.pattern, 'NOT must be followed by EXISTS');
      }
      return { kind: 'notExists', path };
    }
    if (op.type !== 'op' || op.text === '&&' || op.text === '||') {
      throw new FilterPatternError(this.pattern, `expected an operator after ${token.text}`);
    }
    const valueToken = this.next();
    if (valueToken.type !== 'string' && valueToken.type !== 'word') {
      throw new FilterPatternError(this.pattern, `expected a value after ${op.text}`);
    }
    const quoted = valueToken.type === 'string';
    const numeric = !quoted && /^-?\d+(\.\d+)?$/.test(valueToken.text) ? Number(valueToken.text) : null;
    return {
      kind: 'cmp',
      path,
      op: op.text as '=' | '!=' | '<' | '<=' | '>' | '>=',
      value: { text: valueToken.text, quoted, number: numeric },
    };
  }
}

const MISSING = Symbol('missing');

function select(root: unknown, path: readonly Segment[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) {
        return MISSING;
      }
      current = current[segment];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) {
        return MISSING;
      }
      if (!Object.hasOwn(current, segment)) {
        return MISSING;
      }
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}

function wildcard(text: string): RegExp {
  const body = text
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

function compileCompare(expr: Extract<Expr, { kind: 'cmp' }>): (root: unknown) => boolean {
  const { path, op, value } = expr;
  const re = value.text.includes('*') ? wildcard(value.text) : null;
  const equals = (actual: string | number | boolean): boolean => {
    if (typeof actual === 'number' && value.number !== null) {
      return actual === value.number;
    }
    const text = String(actual);
    return re ? re.test(text) : text === value.text;
  };
  return (root) => {
    const actual = select(root, path);
    if (actual === MISSING || actual === null || typeof actual === 'object') {
      return false;
    }
    const scalar = actual as string | number | boolean;
    switch (op) {
      case '=':
        return equals(scalar);
      case '!=':
        return !equals(scalar);
      default: {
        if (typeof scalar !== 'number' || value.number === null) {
          return false;
        }
        if (op === '<') return scalar < value.number;
        if (op === '<=') return scalar <= value.number;
        if (op === '>') return scalar > value.number;
        return scalar >= value.number;
      }
    }
  };
}

function compileExpr(expr: Expr): (root: unknown) => boolean {
  switch (expr.kind) {
    case 'and': {
      const left = compileExpr(expr.left);
      const right = compileExpr(expr.right);
      return (root) => left(root) && right(root);
    }
    case 'or': {
      const left = compileExpr(expr.left);
      const right = compileExpr(expr.right);
      return (root) => left(root) || right(root);
    }
    case 'cmp':
      return compileCompare(expr);
    case 'is': {
      const expected = expr.what === 'NULL' ? null : expr.what === 'TRUE';
      return (root) => select(root, expr.path) === expected;
    }
    case 'notExists':
      return (root) => select(root, expr.path) === MISSING;
  }
}

function compileTerms(pattern: string): EventMatcher {
  const tokens = tokenize(pattern, pattern);
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  for (const token of tokens) {
    if (token.type === 'string') {
      all.push(token.text);
    } else if (token.type === 'word' && token.text.startsWith('?') && token.text.length > 1) {
      any.push(token.text.slice(1));
    } else if (token.type === 'word' && token.text.startsWith('-') && token.text.length > 1) {
      none.push(token.text.slice(1));
    } else if (token.type === 'word') {
      all.push(token.text);
    } else {
      throw new FilterPatternError(pattern, `unexpected '${token.text}' in a term pattern`);
    }
  }
  return (event) => {
    const message = event.message();
    return (
      all.every((term) => message.includes(term)) &&
      (any.length === 0 || any.some((term) => message.includes(term))) &&
      !none.some((term) => message.includes(term))
    );
  };
}

/**
 * What a pattern says about a whole family of events that differ only in some fields (records
 * generated from one template): true or false for every one of them, or null when the answer
 * depends on a field that differs. `varying` maps a selector path (`requestID`,
 * `userIdentity.sessionContext.attributes.creationDate`) to a test of whether some member of the
 * family may hold that literal there; a comparison with a literal no member can hold is false.
 */
export type FamilyMatcher = (template: unknown) => boolean | null;

export interface VaryingField {
  readonly path: readonly Segment[];
  /** Whether some event of the family may have exactly this value at `path`. */
  readonly couldEqual: (literal: string) => boolean;
}

function pathStartsWith(path: readonly Segment[], prefix: readonly Segment[]): boolean {
  return prefix.every((segment, i) => path[i] === segment);
}

function compileFamily(expr: Expr, varying: readonly VaryingField[]): (root: unknown) => boolean | null {
  switch (expr.kind) {
    case 'and': {
      const left = compileFamily(expr.left, varying);
      const right = compileFamily(expr.right, varying);
      return (root) => {
        const a = left(root);
        if (a === false) return false;
        const b = right(root);
        if (b === false) return false;
        return a === true && b === true ? true : null;
      };
    }
    case 'or': {
      const left = compileFamily(expr.left, varying);
      const right = compileFamily(expr.right, varying);
      return (root) => {
        const a = left(root);
        if (a === true) return true;
        const b = right(root);
        if (b === true) return true;
        return a === false && b === false ? false : null;
      };
    }
    default: {
      const field = varying.find((v) => pathStartsWith(expr.path, v.path));
      const exact = compileExpr(expr);
      if (!field) {
        return exact;
      }
      const impossible =
        expr.kind === 'cmp' &&
        expr.op === '=' &&
        !expr.value.text.includes('*') &&
        expr.path.length === field.path.length &&
        !field.couldEqual(expr.value.text);
      return impossible ? () => false : () => null;
    }
  }
}

/**
 * The family form of a pattern (see FamilyMatcher). A term pattern searches the whole text, any
 * part of which may differ, so it decides only the empty pattern; the caller tests each event.
 */
export function compileFamilyMatcher(
  pattern: string | undefined,
  varying: readonly VaryingField[],
): FamilyMatcher {
  const source = (pattern ?? '').trim();
  if (source === '') {
    return () => true;
  }
  if (!source.startsWith('{')) {
    compileFilterPattern(source);
    return () => null;
  }
  const test = compileFamily(new Parser(tokenize(source, source), source).parse(), varying);
  return (template) => (template === undefined ? false : test(template));
}

/** Compiles a filter pattern once; throws `InvalidParameterException` for one CloudWatch would reject. */
export function compileFilterPattern(pattern: string | undefined): EventMatcher {
  const source = (pattern ?? '').trim();
  if (source === '') {
    return () => true;
  }
  if (!source.startsWith('{')) {
    if (source.startsWith('[')) {
      throw new FilterPatternError(source, 'space-delimited patterns are not supported by the emulator');
    }
    return compileTerms(source);
  }
  const test = compileExpr(new Parser(tokenize(source, source), source).parse());
  return (event) => {
    const root = event.json();
    return root !== undefined && test(root);
  };
}
