// The operator and the API server write each problem as `field.path: message`; lint needs the path
// apart, to find the field in the manifest, and keeps the message as they wrote it.

export interface Finding {
  /** Field path in either Kubernetes spelling (`spec.env[0].name`, `metadata.labels.app`); '' for the object. */
  path: string;
  message: string;
}

// A path: names joined by dots, with [index], [key] or ["quoted key"] steps; <nil> is the root.
const LEADING_PATH = /^(<nil>|[^\s:[\].]+(?:\.[^\s:[\].]+|\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\])*): /;

/**
 * The findings in one problem: itself, or each element of an aggregate (`[a.b: ..., a.c: ...]`,
 * as a label selector's problems come), split where the next element's path begins.
 */
export function splitProblem(text: string): Finding[] {
  const aggregate = /^\[(.*)\]$/s.exec(text)?.[1];
  const first = aggregate === undefined ? undefined : LEADING_PATH.exec(aggregate)?.[1];
  if (aggregate === undefined || first === undefined) return [finding(text)];
  const root = escapeRegExp(/^[^.[]+/.exec(first)![0]);
  return aggregate.split(new RegExp(`, (?=${root}[.[][^:]*: )`)).map(finding);
}

function finding(text: string): Finding {
  const match = LEADING_PATH.exec(text);
  if (!match) return { path: '', message: text };
  return { path: match[1] === '<nil>' ? '' : match[1]!, message: text.slice(match[0].length) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
