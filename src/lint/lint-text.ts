// Linting one file's text: every YAML document in it, each certhook object checked as the API
// server and the operator would check it, each problem placed at its field's line and column.
import { LineCounter, parseAllDocuments } from 'yaml';
import { KUBECTL_YAML } from './kubectl-yaml.ts';
import type { KubeObject } from '../kube/object.ts';
import { isObject } from '../schema/json.ts';
import { unknownFields, prune } from '../schema/structural.ts';
import { nameProblems } from '../api/kube-names.ts';
import { formatFieldError } from '../schema/field-error.ts';
import { certhookKind, isCerthookApiVersion, servedKinds, type CerthookKind } from './kinds.ts';
import { fieldOffset } from './locate.ts';
import { splitProblem, type Finding } from './problem-text.ts';

export interface LintProblem {
  file: string;
  line: number;
  column: number;
  /** The field, in the spelling of the message's author; '' for the whole object and for a YAML syntax error. */
  path: string;
  message: string;
  kind: string | null;
  name: string | null;
}

export interface LintResult {
  problems: LintProblem[];
  /** certhook objects checked. */
  checked: number;
  /** Objects of other kinds, passed over. */
  skipped: number;
}

export interface LintOptions {
  /** An object of the certhook.io group whose kind or version is not served is a problem, not skipped. */
  strict: boolean;
}

export function lintText(file: string, text: string, opts: LintOptions): LintResult {
  const lineCounter = new LineCounter();
  const result: LintResult = { problems: [], checked: 0, skipped: 0 };
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const invalidYaml = (offset: number, message: string) =>
    result.problems.push({ ...at(offset), path: '', message: `invalid YAML: ${message}`, kind: null, name: null });
  for (const doc of parseAllDocuments(text, { ...KUBECTL_YAML, lineCounter })) {
    for (const error of doc.errors) invalidYaml(error.pos[0], error.message);
    let value: unknown;
    try {
      // Throws on a document that expands beyond its aliases' limit (a "billion laughs").
      if (doc.errors.length === 0) value = doc.toJS();
    } catch (err) {
      invalidYaml(doc.range[0], (err as Error).message);
    }
    if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
      if (value !== null && value !== undefined) result.skipped += 1;
      continue;
    }
    const object = value as KubeObject & { apiVersion: string; kind: string };
    const type = certhookKind(object.apiVersion, object.kind);
    if (!type && !(opts.strict && isCerthookApiVersion(object.apiVersion))) {
      result.skipped += 1;
      continue;
    }
    result.checked += 1;
    const name = typeof object.metadata?.name === 'string' ? object.metadata.name : null;
    const findings = type ? checkObject(type, object, name) : [unservedKind(object.apiVersion, object.kind)];
    for (const finding of findings) {
      result.problems.push({ ...at(fieldOffset(doc, finding.path)), ...finding, kind: object.kind, name });
    }
  }
  return result;
}

/** Unknown fields, as strict field validation (kubectl's default) refuses them, then what the API server and operator find. */
function checkObject(type: CerthookKind, object: KubeObject, name: string | null): Finding[] {
  const unknown = unknownFields(type.schema, object).map((path) => ({ path, message: `unknown field ${JSON.stringify(path)}` }));
  // What the API server checks of every object's name, before its kind's schema.
  const badName = name === null ? [] : nameProblems(name, false).map((message) => formatFieldError({ path: 'metadata.name', type: 'Invalid', value: name, message }));
  return [...unknown, ...[...badName, ...type.problems(prune(type.schema, object))].flatMap(splitProblem)];
}

/** kubectl's words for a kind the cluster does not serve, then what certhook serves. */
function unservedKind(apiVersion: string, kind: string): Finding {
  const served = servedKinds();
  const list = [...served].map(([version, kinds]) => `${kinds.join(', ')} in ${version}`).join('; ');
  return {
    path: served.has(apiVersion) ? 'kind' : 'apiVersion',
    message: `no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}: certhook.io serves ${list}`,
  };
}
