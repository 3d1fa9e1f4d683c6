// The part of k8s.io/client-go/util/jsonpath that CRD printer columns use: a path such as
// `.spec.enabled`, `.metadata.labels.app\.kubernetes\.io/name`, `.spec.items[0]`, `.a[*].b`,
// `.a['x.y']` or `.status.conditions[?(@.type=="Ready")].status`, and the text form the
// API server gives a result.

type Literal = string | number | boolean;
type Comparison = '==' | '!=' | '<' | '>' | '<=' | '>=';
type Filter = { kind: 'filter'; path: Step[] } & ({ operator: 'exists' } | { operator: Comparison; value: Literal });
type Step = { kind: 'field'; name: string } | { kind: 'wildcard' } | { kind: 'index'; index: number } | Filter;

export type JsonPath = readonly Step[];

/** Parses a printer-column path; throws for syntax this subset does not know. */
export function compileJsonPath(expression: string): JsonPath {
  const parser = new PathParser(expression.trim().replace(/^\$/, ''));
  const steps = parser.steps();
  if (!parser.done()) throw new Error(`unrecognized JSONPath ${JSON.stringify(expression)}`);
  return steps;
}

/** The first value `path` selects in `root` (JSON null included), or undefined for none. */
export function firstMatch(path: JsonPath, root: unknown): { value: unknown } | undefined {
  const [first] = evaluate(path, [root]);
  return first === undefined ? undefined : { value: first.value };
}

/**
 * A value printed as jsonpath's PrintResults prints it: strings raw, numbers and booleans as
 * Go's fmt does, objects and lists as compact Go JSON, and JSON null as `<no value>`.
 */
export function formatJsonPathValue(value: unknown): string {
  if (value === null || value === undefined) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  return goJson(value);
}

// Results are boxed so that a selected JSON null is told apart from no result.
function evaluate(path: readonly Step[], input: readonly unknown[]): { value: unknown }[] {
  let current = input.map((value) => ({ value }));
  for (const step of path) current = current.flatMap(({ value }) => apply(step, value));
  return current;
}

function apply(step: Step, value: unknown): { value: unknown }[] {
  const isRecord = typeof value === 'object' && value !== null && !Array.isArray(value);
  switch (step.kind) {
    case 'field':
      return isRecord && Object.hasOwn(value, step.name) ? [{ value: (value as Record<string, unknown>)[step.name] }] : [];
    case 'wildcard':
      if (Array.isArray(value)) return value.map((v: unknown) => ({ value: v }));
      if (!isRecord) return [];
      return Object.keys(value)
        .sort()
        .map((k) => ({ value: (value as Record<string, unknown>)[k] }));
    case 'index': {
      if (!Array.isArray(value)) return [];
      const at = step.index < 0 ? value.length + step.index : step.index;
      return at >= 0 && at < value.length ? [{ value: value[at] as unknown }] : [];
    }
    case 'filter':
      if (!Array.isArray(value)) return [];
      return value.filter((item: unknown) => passes(step, item)).map((item: unknown) => ({ value: item }));
  }
}

function passes(filter: Filter, item: unknown): boolean {
  const found = evaluate(filter.path, [item]);
  if (filter.operator === 'exists') return found.length > 0;
  if (found.length !== 1) return false;
  const left = found[0]!.value;
  const right = filter.value;
  // Like text/template's comparisons, only values of one kind compare; ordering needs
  // numbers or strings.
  if (typeof left !== typeof right) return false;
  if (filter.operator === '==') return left === right;
  if (filter.operator === '!=') return left !== right;
  if (typeof right === 'boolean') return false;
  const l = left as typeof right;
  switch (filter.operator) {
    case '<':
      return l < right;
    case '>':
      return l > right;
    case '<=':
      return l <= right;
    case '>=':
      return l >= right;
  }
}

class PathParser {
  private readonly text: string;
  private pos = 0;

  constructor(text: string) {
    this.text = text;
  }

  done(): boolean {
    return this.pos >= this.text.length;
  }

  private fail(): never {
    throw new Error(`unrecognized JSONPath ${JSON.stringify(this.text)} at offset ${this.pos}`);
  }

  // Steps until the end of the text or, inside a filter, a character that cannot continue a path.
  steps(): Step[] {
    const steps: Step[] = [];
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === '.') {
        this.pos++;
        if (this.text[this.pos] === '.') this.fail(); // recursive descent is not supported
        if (this.text[this.pos] === '*') {
          this.pos++;
          steps.push({ kind: 'wildcard' });
        } else steps.push({ kind: 'field', name: this.name() });
      } else if (ch === '[') {
        this.pos++;
        steps.push(this.bracket());
      } else return steps;
    }
  }

  // A field name runs to the next terminator; a backslash makes the next character literal.
  private name(): string {
    let name = '';
    while (this.pos < this.text.length && !' \t\n.,[]$@{}()=!<>'.includes(this.text[this.pos]!)) {
      if (this.text[this.pos] === '\\') this.pos++;
      name += this.text[this.pos++] ?? '';
    }
    if (name === '') this.fail();
    return name;
  }

  private bracket(): Step {
    let step: Step;
    const rest = this.text.slice(this.pos);
    let match: RegExpMatchArray | null;
    if (rest.startsWith('*')) {
      this.pos++;
      step = { kind: 'wildcard' };
    } else if ((match = rest.match(/^-?\d+/))) {
      this.pos += match[0].length;
      step = { kind: 'index', index: Number(match[0]) };
    } else if (rest[0] === "'" || rest[0] === '"') {
      step = { kind: 'field', name: this.quoted() };
    } else if (rest.startsWith('?(')) {
      this.pos += 2;
      step = this.filter();
      if (this.text[this.pos++] !== ')') this.fail();
    } else this.fail();
    if (this.text[this.pos++] !== ']') this.fail();
    return step;
  }

  private filter(): Filter {
    this.space();
    if (this.text[this.pos++] !== '@') this.fail();
    const path = this.steps();
    this.space();
    const operator = this.text.slice(this.pos).match(/^(==|!=|<=|>=|<|>)/)?.[0] as Comparison | undefined;
    if (!operator) return { kind: 'filter', path, operator: 'exists' };
    this.pos += operator.length;
    this.space();
    const value = this.literal();
    this.space();
    return { kind: 'filter', path, operator, value };
  }

  private literal(): Literal {
    const ch = this.text[this.pos];
    if (ch === "'" || ch === '"') return this.quoted();
    const match = this.text.slice(this.pos).match(/^(true|false|-?\d+(\.\d+)?([eE][+-]?\d+)?)/);
    if (!match) this.fail();
    this.pos += match[0].length;
    return match[0] === 'true' ? true : match[0] === 'false' ? false : Number(match[0]);
  }

  private quoted(): string {
    const quote = this.text[this.pos++]!;
    let value = '';
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      if (this.text[this.pos] === '\\') this.pos++;
      value += this.text[this.pos++] ?? '';
    }
    if (this.text[this.pos++] !== quote) this.fail();
    return value;
  }

  private space(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }
}

// fmt's %v: the API server decodes integral JSON numbers as int64 (printed in full) and others
// as float64, printed with %g's shortest form, which switches to an exponent at 1e+06.
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const [mantissa, exponentText] = n.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 6) return String(n);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

// encoding/json's Marshal of decoded JSON: object keys sorted, and <, >, &, U+2028 and U+2029
// escaped as \u sequences.
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((k) => `${goString(k)}:${goJson(record[k])}`);
    return `{${members.join(',')}}`;
  }
  if (typeof value === 'string') return goString(value);
  return JSON.stringify(value ?? null);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
