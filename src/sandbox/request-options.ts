// The query parameters of writes — fieldValidation, fieldManager, dryRun, force — checked as
// kube-apiserver checks Create/Update/Patch/DeleteOptions (a bad one is a 422 naming it).
import { ApiError } from './api-error.ts';
import type { ApplyOptions } from './api.ts';
import { formatInvalid, statusCauses, type FieldError } from '../schema/field-error.ts';

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

/** The longest fieldManager the API server accepts (validation.FieldManagerMaxLength). */
const FIELD_MANAGER_MAX_LENGTH = 128;

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;

function invalidOptions(kind: OptionsKind, errors: FieldError[]): ApiError {
  return ApiError.invalid(kind, 'meta.k8s.io', '', formatInvalid(`${kind}.meta.k8s.io`, '', errors), statusCauses(errors));
}

/**
 * A request without fieldManager is recorded under its User-Agent's program name (`kubectl` of
 * `kubectl/v1.34.1 (linux/amd64) ...`), printable characters only, as the API server does.
 */
function defaultManager(userAgent: string | undefined): string {
  const program = (userAgent ?? '').split('/')[0]!;
  let name = '';
  for (const ch of program) {
    if (!PRINTABLE.test(ch)) continue;
    if (Buffer.byteLength(name + ch) > FIELD_MANAGER_MAX_LENGTH) break;
    name += ch;
  }
  return name;
}

/** Each character Go's unicode.IsPrint refuses, where it stands (in bytes). */
function unprintable(manager: string): FieldError[] {
  const errors: FieldError[] = [];
  let at = 0;
  for (const ch of manager) {
    if (!PRINTABLE.test(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      errors.push({ path: 'fieldManager', type: 'Invalid', value: manager, message: `invalid character U+${code} (at position ${at})` });
    }
    at += Buffer.byteLength(ch);
  }
  return errors;
}

function dryRunErrors(values: string[]): FieldError[] {
  return values.every((v) => v === 'All') ? [] : [{ path: 'dryRun', type: 'Unsupported', value: values, message: 'supported values: "All"' }];
}

/** Whether a request asks for a dry run: `?dryRun=All`, or DeleteOptions.dryRun in a delete's body. */
export function dryRunOf(kind: OptionsKind, url: URL, body: unknown = []): boolean {
  const values = [...url.searchParams.getAll('dryRun'), ...(Array.isArray(body) ? body.map(String) : [])];
  const errors = dryRunErrors(values);
  if (errors.length) throw invalidOptions(kind, errors);
  return values.length > 0;
}

/** The options of a create, update or patch (`apply` for a server-side apply patch). */
export function writeOptions(kind: Exclude<OptionsKind, 'DeleteOptions'>, url: URL, userAgent: string | undefined, apply = false): ApplyOptions {
  const q = url.searchParams;
  const errors: FieldError[] = [];
  const validation = q.get('fieldValidation') || 'Warn';
  if (validation !== 'Strict' && validation !== 'Warn' && validation !== 'Ignore') {
    throw ApiError.badRequest(`fieldValidation must be one of "Ignore", "Warn" or "Strict", not ${JSON.stringify(validation)}`);
  }
  const manager = q.get('fieldManager') ?? '';
  if (apply && manager === '') errors.push({ path: 'fieldManager', type: 'Required', message: 'is required for apply patch' });
  if (Buffer.byteLength(manager) > FIELD_MANAGER_MAX_LENGTH) errors.push({ path: 'fieldManager', type: 'TooLong', message: `may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes` });
  errors.push(...unprintable(manager));
  // Only PatchOptions has force; other verbs ignore the parameter, as the API server does.
  const force = kind === 'PatchOptions' ? q.get('force') : null;
  if (force !== null && !apply) errors.push({ path: 'force', type: 'Forbidden', message: 'may not be specified for non-apply patch' });
  if (force !== null && force !== 'true' && force !== 'false') throw ApiError.badRequest(`force must be true or false, not ${JSON.stringify(force)}`);
  errors.push(...dryRunErrors(q.getAll('dryRun')));
  if (errors.length) throw invalidOptions(kind, errors);
  return {
    fieldValidation: validation,
    fieldManager: manager || defaultManager(userAgent),
    ...(q.getAll('dryRun').length ? { dryRun: true } : {}),
    ...(force === 'true' ? { force: true } : {}),
  };
}
