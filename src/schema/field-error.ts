// Field errors and their rendering, word for word as the apiserver prints them
// (k8s.io/apimachinery/pkg/util/validation/field and apierrors.NewInvalid).
import { isObject } from './json.ts';

export type FieldErrorType =
  | 'Required'
  | 'Invalid'
  | 'Unsupported'
  | 'TooLong'
  | 'TooMany'
  | 'Duplicate'
  | 'Forbidden'
  | 'TypeInvalid';

export interface FieldError {
  /** Kubernetes field path (`spec.job.command`, `spec.onEvents[1]`, `metadata.labels[app]`); root = ``. */
  path: string;
  type: FieldErrorType;
  /** The offending value as the apiserver reports it; omitted where it prints none. */
  value?: unknown;
  /** The detail after the value (may be empty, e.g. for a plain Required). */
  message: string;
}

/** One entry of a Status's details.causes. */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

const TITLES: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  Unsupported: 'Unsupported value',
  TooLong: 'Too long',
  TooMany: 'Too many',
  Duplicate: 'Duplicate value',
  Forbidden: 'Forbidden',
  TypeInvalid: 'Invalid value',
};

const REASONS: Record<FieldErrorType, string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  Unsupported: 'FieldValueNotSupported',
  TooLong: 'FieldValueTooLong',
  TooMany: 'FieldValueTooMany',
  Duplicate: 'FieldValueDuplicate',
  Forbidden: 'FieldValueForbidden',
  TypeInvalid: 'FieldValueTypeInvalid',
};

// These types never print the value (field.Error.ErrorBody).
const VALUELESS = new Set<FieldErrorType>(['Required', 'Forbidden', 'TooLong']);

/** The error without its path, e.g. `Invalid value: 500: spec.x in body should be ...`. */
export function fieldErrorBody(error: FieldError): string {
  let body = TITLES[error.type];
  // TooMany without a count is field.TooMany's omitted value.
  if (!VALUELESS.has(error.type) && !(error.type === 'TooMany' && error.value === undefined)) {
    body += `: ${goValue(error.value)}`;
  }
  return error.message === '' ? body : `${body}: ${error.message}`;
}

/** `spec.timeoutSeconds: Invalid value: 500: ...`; the root prints as `<nil>`, as a nil field.Path does. */
export function formatFieldError(error: FieldError): string {
  return `${printedPath(error.path)}: ${fieldErrorBody(error)}`;
}

/** The Status message of a 422: `DeployHook.certhook.io "x" is invalid: [err1, err2]`. */
export function formatInvalid(kindGroup: string, name: string, errors: FieldError[]): string {
  const messages = [...new Set(errors.map(formatFieldError))];
  const list = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  return `${kindGroup} ${JSON.stringify(name)} is invalid: ${list}`;
}

/** The Status details.causes of a 422, one per distinct error. */
export function statusCauses(errors: FieldError[]): StatusCause[] {
  const seen = new Set<string>();
  return errors.flatMap((error) => {
    const key = formatFieldError(error);
    if (seen.has(key)) return [];
    seen.add(key);
    return [{ reason: REASONS[error.type], message: fieldErrorBody(error), field: printedPath(error.path) }];
  });
}

function printedPath(path: string): string {
  return path === '' ? '<nil>' : path;
}

/** A value as Go's fmt prints a decoded JSON value in field.Error: %v for scalars, %q for strings, %#v otherwise. */
function goValue(value: unknown): string {
  if (value === undefined || value === null) return '"null"';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return goSyntax(value);
}

/** Integral JSON numbers decode to int64; the rest are float64, printed like Go's %v. */
export function goNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : goFloat(n);
}

/** Go's %v of a float64: shortest digits, exponent form below 1e-4 and from 1e+06 up. */
export function goFloat(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const [mantissa, exponentText] = n.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 6) return String(n);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

function goSyntax(value: unknown): string {
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  if (isObject(value)) {
    const entries = Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${goSyntax(value[k])}`);
    return `map[string]interface {}{${entries.join(', ')}}`;
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return goNumber(value);
  return String(value);
}
