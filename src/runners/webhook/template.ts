// JSON-safe body templates for webhook hooks. A body is a JSON value whose string leaves may name
// payload fields as `{{ .Field }}`. Values are put into the JSON value, never spliced into JSON
// text, so no field's content (a PEM's newlines, a quote) can break the body. Every mistake is
// found when the body is compiled, with its field path, so rendering cannot fail.
import { FIELD_KINDS, TEMPLATE_FIELDS, type PayloadFields, type TemplateField } from './payload.ts';

export type CompiledBody =
  | { ok: true; render(fields: PayloadFields): unknown; usesPrivateKey: boolean }
  | { ok: false; problems: string[] };

type Render = (fields: PayloadFields) => unknown;
type Part = string | { field: TemplateField };

interface Context {
  includePrivateKey: boolean;
  problems: string[];
  usesPrivateKey: boolean;
}

const ROOT = 'spec.webhook.body';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER = /^\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*$/;
const BARE_NAME = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/;
const FIELD_LIST = TEMPLATE_FIELDS.map((name) => `.${name}`).join(', ');

/** The body parsed once; `render` then only reads fields. Problems are `<path>: <message>`. */
export function compileBody(body: unknown, opts: { includePrivateKey: boolean }): CompiledBody {
  const ctx: Context = { includePrivateKey: opts.includePrivateKey, problems: [], usesPrivateKey: false };
  const render = compile(body, ROOT, ctx);
  return ctx.problems.length > 0 ? { ok: false, problems: ctx.problems } : { ok: true, render, usesPrivateKey: ctx.usesPrivateKey };
}

/** Kubernetes field-path spelling: `a.b`, `a[2]`, and `a["x-y"]` for keys that are not identifiers. */
const childPath = (path: string, key: string) => (IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

function compile(value: unknown, path: string, ctx: Context): Render {
  if (typeof value === 'string') return compileText(value, path, ctx);
  if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return () => value;
  if (Array.isArray(value)) {
    const items = value.map((item, i) => compile(item, `${path}[${i}]`, ctx));
    return (fields) => items.map((render) => render(fields));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value).map(([key, item]) => {
      const at = childPath(path, key);
      if (key.includes('{{')) ctx.problems.push(`${at}: object keys are not templated: put the placeholder in a value`);
      return [key, compile(item, at, ctx)] as const;
    });
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    return (fields) => Object.fromEntries(entries.map(([key, render]) => [key, render(fields)]));
  }
  ctx.problems.push(`${path}: not a JSON value`);
  return () => null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A string leaf: itself, one field's typed value (the whole string is one placeholder), or text. */
function compileText(text: string, path: string, ctx: Context): Render {
  const parts = parseText(text, path, ctx);
  const [only] = parts;
  if (parts.length === 1 && typeof only === 'object') {
    const { field } = only;
    return (fields) => fields[field] ?? null;
  }
  if (parts.every((part) => typeof part === 'string')) return () => text;
  for (const part of parts) {
    if (typeof part === 'object' && FIELD_KINDS[part.field] === 'list') {
      ctx.problems.push(`${path}: cannot interpolate .${part.field} (a list) into text: make it the whole value`);
    }
  }
  return (fields) => parts.map((part) => (typeof part === 'string' ? part : String(fields[part.field] ?? ''))).join('');
}

/** The text and placeholders of a string, in order; stops at the first unbalanced brace pair. */
function parseText(text: string, path: string, ctx: Context): Part[] {
  const parts: Part[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    const close = text.indexOf('}}', at);
    if (close !== -1 && (open === -1 || close < open)) {
      ctx.problems.push(`${path}: "}}" without a matching "{{"`);
      return parts;
    }
    if (open === -1) {
      parts.push(text.slice(at));
      return parts;
    }
    const end = text.indexOf('}}', open + 2);
    if (end === -1) {
      ctx.problems.push(`${path}: "{{" without a matching "}}"`);
      return parts;
    }
    if (open > at) parts.push(text.slice(at, open));
    const field = placeholderField(text.slice(open, end + 2), text.slice(open + 2, end), path, ctx);
    if (field !== undefined) parts.push({ field });
    at = end + 2;
  }
  return parts;
}

/** The field one placeholder names, or undefined after recording why it names none. */
function placeholderField(raw: string, inner: string, path: string, ctx: Context): TemplateField | undefined {
  const name = PLACEHOLDER.exec(inner)?.[1];
  if (name === undefined) {
    const bare = BARE_NAME.exec(inner)?.[1];
    ctx.problems.push(
      bare !== undefined
        ? `${path}: ${raw} needs a dot before the field: write {{ .${bare} }}`
        : `${path}: ${raw} is not a placeholder: write just {{ .Field }} (certhook templates are JSON-safe by construction and need no printf, pipes or functions)`,
    );
    return undefined;
  }
  if (!Object.hasOwn(FIELD_KINDS, name)) {
    const like = TEMPLATE_FIELDS.find((field) => field.toLowerCase() === name.toLowerCase());
    ctx.problems.push(`${path}: unknown field .${name}${like ? ` (did you mean .${like}?)` : ''}: the fields are ${FIELD_LIST}`);
    return undefined;
  }
  const field = name as TemplateField;
  if (field === 'PrivateKeyPEM') {
    if (!ctx.includePrivateKey) {
      ctx.problems.push(`${path}: .PrivateKeyPEM is not sent by default: set spec.webhook.includePrivateKey: true to send the key`);
      return undefined;
    }
    ctx.usesPrivateKey = true;
  }
  return field;
}
