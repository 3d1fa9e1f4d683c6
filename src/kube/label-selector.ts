// Label selectors, as k8s.io/apimachinery/pkg/labels defines them: the string form of
// `?labelSelector=` and the metav1.LabelSelector object form, both reduced to one list of
// requirements. Shared by the operator and the sandbox so both agree on what a selector means.

export type Operator =
  | 'In'
  | 'NotIn'
  | 'Exists'
  | 'DoesNotExist'
  | 'Equals'
  | 'NotEquals'
  | 'GreaterThan'
  | 'LessThan';

export type Requirement = { key: string; operator: Operator; values: string[] };

/** metav1.LabelSelector. */
export type LabelSelector = {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: ReadonlyArray<{ key: string; operator: string; values?: readonly string[] | null }> | null;
};

/** An invalid label or field selector; the API server answers it with 400 Bad Request. */
export class SelectorError extends Error {
  override name = 'SelectorError';
}

/** Parses the string form (`a=b,c!=d,e in (x,y),f notin (z),g,!h,n>1`); empty means everything. */
export function parseLabelSelector(text: string): Requirement[] {
  return sortByKey(new Parser(text).parse());
}

/**
 * Converts the object form, validating it as the API server does on write
 * (apimachinery ValidateLabelSelector). `fieldPath` prefixes the paths in error messages,
 * e.g. `spec.secretSelector`. An empty selector matches everything.
 */
export function fromLabelSelector(selector: LabelSelector, fieldPath = ''): Requirement[] {
  const errors: string[] = [];
  const requirements: Requirement[] = [];
  const at = (child: string) => (fieldPath ? `${fieldPath}.${child}` : child);

  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    for (const msg of qualifiedNameErrors(key)) errors.push(invalid(at('matchLabels'), key, msg));
    for (const msg of labelValueErrors(value)) errors.push(invalid(at('matchLabels'), value, msg));
    requirements.push({ key, operator: 'Equals', values: [value] });
  }
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    const path = at(`matchExpressions[${i}]`);
    const values = [...(expr.values ?? [])];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) {
          errors.push(`${path}.values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`);
        }
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          errors.push(`${path}.values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`);
        }
        break;
      default:
        errors.push(invalid(`${path}.operator`, expr.operator, 'not a valid selector operator'));
    }
    for (const msg of qualifiedNameErrors(expr.key)) errors.push(invalid(`${path}.key`, expr.key, msg));
    values.forEach((value, j) => {
      for (const msg of labelValueErrors(value)) errors.push(invalid(`${path}.values[${j}]`, value, msg));
    });
    requirements.push({ key: expr.key, operator: expr.operator as Operator, values });
  });

  if (errors.length > 0) throw new SelectorError(aggregate(errors));
  return sortByKey(requirements);
}

/** True when `labels` satisfy every requirement; no requirements match everything. */
export function matchesLabels(requirements: readonly Requirement[], labels: Readonly<Record<string, string>> | null | undefined): boolean {
  const present = labels ?? {};
  return requirements.every((r) => matches(r, Object.hasOwn(present, r.key) ? present[r.key] : undefined));
}

/** The canonical string form (labels.Selector.String()): keys sorted, set values sorted. */
export function formatLabelSelector(requirements: readonly Requirement[]): string {
  return sortByKey([...requirements]).map(formatRequirement).join(',');
}

function matches(r: Requirement, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In':
    case 'Equals':
      return value !== undefined && r.values.includes(value);
    case 'NotIn':
    case 'NotEquals':
      return value === undefined || !r.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'GreaterThan':
    case 'LessThan': {
      const have = value === undefined ? undefined : parseInt64(value);
      const want = r.values.length === 1 ? parseInt64(r.values[0]!) : undefined;
      if (have === undefined || want === undefined) return false;
      return r.operator === 'GreaterThan' ? have > want : have < want;
    }
  }
}

function formatRequirement(r: Requirement): string {
  const values = r.values.length === 1 ? r.values[0]! : [...r.values].sort().join(',');
  switch (r.operator) {
    case 'Exists':
      return r.key;
    case 'DoesNotExist':
      return `!${r.key}`;
    case 'Equals':
      return `${r.key}=${values}`;
    case 'NotEquals':
      return `${r.key}!=${values}`;
    case 'GreaterThan':
      return `${r.key}>${values}`;
    case 'LessThan':
      return `${r.key}<${values}`;
    case 'In':
      return `${r.key} in (${values})`;
    case 'NotIn':
      return `${r.key} notin (${values})`;
  }
}

function sortByKey(requirements: Requirement[]): Requirement[] {
  return requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// strconv.ParseInt(s, 10, 64): an optional sign and decimal digits, within int64.
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

// ---- the string-form parser: a port of labels.Parser, messages included ----

type Token =
  | 'identifier'
  | 'end'
  | 'comma'
  | 'openPar'
  | 'closedPar'
  | 'doesNotExist'
  | 'equals'
  | 'doubleEquals'
  | 'notEquals'
  | 'greaterThan'
  | 'lessThan'
  | 'in'
  | 'notin';

type Lexeme = { token: Token; literal: string };

const SYMBOLS: Record<string, Token> = {
  ')': 'closedPar',
  ',': 'comma',
  '!': 'doesNotExist',
  '==': 'doubleEquals',
  '=': 'equals',
  '>': 'greaterThan',
  '<': 'lessThan',
  '!=': 'notEquals',
  '(': 'openPar',
};
const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';
const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string) => '=!(),><'.includes(ch);

function lex(text: string): Lexeme[] {
  const lexemes: Lexeme[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && isWhitespace(text[pos]!)) pos++;
    if (pos >= text.length) {
      lexemes.push({ token: 'end', literal: '' });
      return lexemes;
    }
    const start = pos;
    if (isSpecial(text[pos]!)) {
      // The longest run of special characters that still forms an operator.
      let best: Lexeme | undefined;
      while (pos < text.length && isSpecial(text[pos]!)) {
        const candidate = text.slice(start, pos + 1);
        const token = SYMBOLS[candidate];
        if (token) best = { token, literal: candidate };
        else if (best) break;
        pos++;
      }
      pos = start + best!.literal.length;
      lexemes.push(best!);
    } else {
      while (pos < text.length && !isSpecial(text[pos]!) && !isWhitespace(text[pos]!)) pos++;
      const word = text.slice(start, pos);
      lexemes.push({ token: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'identifier', literal: word });
    }
  }
}

class Parser {
  private readonly lexemes: Lexeme[];
  private position = 0;

  constructor(text: string) {
    this.lexemes = lex(text);
  }

  // Where values are expected, the keywords `in` and `notin` are ordinary identifiers.
  private lookahead(values: boolean): Lexeme {
    const lexeme = this.lexemes[this.position]!;
    return values && (lexeme.token === 'in' || lexeme.token === 'notin') ? { token: 'identifier', literal: lexeme.literal } : lexeme;
  }

  private consume(values: boolean): Lexeme {
    const lexeme = this.lookahead(values);
    if (lexeme.token !== 'end') this.position++;
    return lexeme;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead(true);
      if (token === 'end') return requirements;
      if (token !== 'identifier' && token !== 'doesNotExist') {
        throw new SelectorError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (err) {
        if (err instanceof SelectorError) throw new SelectorError(`unable to parse requirement: ${err.message}`);
        throw err;
      }
      const next = this.consume(true);
      if (next.token === 'end') return requirements;
      if (next.token !== 'comma') throw new SelectorError(`found '${next.literal}', expected: ',' or 'end of string'`);
      const after = this.lookahead(true);
      if (after.token !== 'identifier' && after.token !== 'doesNotExist') {
        throw new SelectorError(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): Requirement {
    let lexeme = this.consume(true);
    const negated = lexeme.token === 'doesNotExist';
    if (negated) lexeme = this.consume(true);
    if (lexeme.token !== 'identifier') throw new SelectorError(`found '${lexeme.literal}', expected: identifier`);
    const key = lexeme.literal;
    // The parser reports a bad key with a nil field path, hence "<nil>".
    const keyErrors = qualifiedNameErrors(key);
    if (keyErrors.length > 0) throw new SelectorError(invalid('<nil>', key, keyErrors.join('; ')));

    const next = this.lookahead(true).token;
    if (negated || next === 'end' || next === 'comma') {
      return { key, operator: negated ? 'DoesNotExist' : 'Exists', values: [] };
    }
    const operator = this.parseOperator();
    const values = operator === 'In' || operator === 'NotIn' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, values);
  }

  private parseOperator(): Operator {
    const { token, literal } = this.consume(false);
    const operators: Partial<Record<Token, Operator>> = {
      in: 'In',
      notin: 'NotIn',
      equals: 'Equals',
      doubleEquals: 'Equals',
      notEquals: 'NotEquals',
      greaterThan: 'GreaterThan',
      lessThan: 'LessThan',
    };
    const operator = operators[token];
    if (!operator) throw new SelectorError(`found '${literal}', expected: ${BINARY_OPERATORS}`);
    return operator;
  }

  // `(x,y)`; empty members such as `()` or `(a,)` stand for the empty value. Returned as a
  // sorted set, like sets.String.List().
  private parseValues(): string[] {
    const open = this.consume(true);
    if (open.token !== 'openPar') throw new SelectorError(`found '${open.literal}' expected: '('`);
    const first = this.lookahead(true);
    if (first.token === 'closedPar') {
      this.consume(true);
      return [''];
    }
    if (first.token !== 'identifier' && first.token !== 'comma') {
      throw new SelectorError(`found '${first.literal}', expected: ',', ')' or identifier`);
    }
    const values = new Set<string>();
    for (;;) {
      const { token, literal } = this.consume(true);
      if (token === 'identifier') {
        values.add(literal);
        const next = this.lookahead(true);
        if (next.token === 'closedPar') break;
        if (next.token !== 'comma') throw new SelectorError(`found '${next.literal}', expected: ',' or ')'`);
      } else if (token === 'comma') {
        if (values.size === 0) values.add('');
        const next = this.lookahead(true).token;
        if (next === 'closedPar') {
          values.add('');
          break;
        }
        if (next === 'comma') {
          this.consume(true);
          values.add('');
        }
      } else {
        throw new SelectorError(`found '${literal}', expected: ',', or identifier`);
      }
    }
    this.consume(true); // the ')' the loop stopped at
    return [...values].sort();
  }

  private parseExactValue(): string[] {
    const next = this.lookahead(true);
    if (next.token === 'end' || next.token === 'comma') return [''];
    const { token, literal } = this.consume(true);
    if (token !== 'identifier') throw new SelectorError(`found '${literal}', expected: identifier`);
    return [literal];
  }
}

// labels.NewRequirement's value checks (the key is already checked by the parser).
function newRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const errors: string[] = [];
  if (operator === 'GreaterThan' || operator === 'LessThan') {
    values.forEach((v, i) => {
      if (parseInt64(v) === undefined) {
        errors.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      }
    });
  }
  values.forEach((v, i) => {
    const msgs = labelValueErrors(v);
    if (msgs.length > 0) errors.push(invalid(`values[${i}][${key}]`, v, msgs.join('; ')));
  });
  if (errors.length > 0) throw new SelectorError(aggregate(errors));
  return { key, operator, values };
}

// ---- apimachinery validation messages ----

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

// validation.IsQualifiedName: label keys, `[prefix/]name`.
function qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split('/');
  if (parts.length > 2) {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  const name = parts.at(-1)!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix === '') errors.push('prefix part must be non-empty');
    else {
      if (prefix.length > 253) errors.push('prefix part must be no more than 253 characters');
      if (!DNS1123_SUBDOMAIN.test(prefix)) {
        errors.push(`prefix part ${regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com')}`);
      }
    }
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  if (!QUALIFIED_NAME.test(name)) {
    errors.push(`name part ${regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errors;
}

// validation.IsValidLabelValue.
function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) errors.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errors;
}

// field.Invalid(...).Error()
function invalid(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
}

// utilerrors.Aggregate: one message as is, several in brackets.
function aggregate(errors: readonly string[]): string {
  return errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
}
