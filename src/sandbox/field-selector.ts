// Field selectors (`?fieldSelector=`), as k8s.io/apimachinery/pkg/fields parses them: terms
// `field=value`, `field==value` or `field!=value` joined by commas, where `\`, `,` and `=` in a
// value are escaped with a backslash. Each resource supports a fixed set of fields.
import { SelectorError } from '../kube/label-selector.ts';

export type FieldRequirement = { field: string; operator: 'Equals' | 'NotEquals'; value: string };

const OPERATORS = [
  ['!=', 'NotEquals'],
  ['==', 'Equals'],
  ['=', 'Equals'],
] as const;

/**
 * Parses a field selector; empty means everything. A field outside `supportedFields` is an
 * error with the API server's message, `field label not supported: <field>`.
 */
export function parseFieldSelector(text: string, supportedFields: readonly string[]): FieldRequirement[] {
  const requirements: FieldRequirement[] = [];
  // The API server sorts the terms, which decides which bad term it reports first.
  for (const term of splitTerms(text).sort()) {
    if (term === '') continue;
    const parsed = splitTerm(term);
    if (!parsed) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    requirements.push({ field: parsed.field, operator: parsed.operator, value: unescapeValue(parsed.value) });
  }
  for (const { field } of requirements) {
    if (!supportedFields.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
  }
  return requirements;
}

/**
 * True when `obj` satisfies every requirement. A field is read along its dotted path; a
 * missing value reads as the empty string, as the API server's field sets do.
 */
export function matchesFields(requirements: readonly FieldRequirement[], obj: unknown): boolean {
  return requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === 'Equals'));
}

function fieldValue(obj: unknown, field: string): string {
  let value: unknown = obj;
  for (const part of field.split('.')) {
    value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[part] : undefined;
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

// Commas split terms unless escaped; the escape stays in the term for unescapeValue.
function splitTerms(text: string): string[] {
  if (text === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    if (escaped) escaped = false;
    else if (text[i] === '\\') escaped = true;
    else if (text[i] === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

// The first operator occurrence splits the term; `!=` and `==` are tried before `=`.
function splitTerm(term: string): { field: string; operator: FieldRequirement['operator']; value: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const [symbol, operator] of OPERATORS) {
      if (term.startsWith(symbol, i)) return { field: term.slice(0, i), operator, value: term.slice(i + symbol.length) };
    }
  }
  return undefined;
}

function unescapeValue(value: string): string {
  let out = '';
  let escaped = false;
  for (const ch of value) {
    if (escaped) {
      if (ch !== '\\' && ch !== ',' && ch !== '=') {
        throw new SelectorError(`invalid field selector: invalid escape sequence: \\${ch}`);
      }
      out += ch;
      escaped = false;
    } else if (ch === '\\') escaped = true;
    else if (ch === ',' || ch === '=') {
      // Go prints the rune with %v, i.e. as its code point number.
      throw new SelectorError(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
    } else out += ch;
  }
  if (escaped) throw new SelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}
