// The grammars Kubernetes checks names, keys and values against, as zod fields whose CRD carries
// each check as a CEL rule with a message that says what to fix (a bare `pattern` would only
// print the regex). The regular expressions are written once, in the syntax RE2 (CEL's
// `matches`) and JavaScript share, without a single quote (they sit in CEL raw strings r'...').
import { z } from 'zod';
import type { ValidationRule } from './structural-schema.ts';

/** RFC 1123 label, as in a DNS name: at most 63 characters (Kubernetes' IsDNS1123Label). */
export const DNS_LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
/** RFC 1123 subdomain, as Kubernetes spells object names (IsDNS1123Subdomain; its length is the field's maxLength). */
export const DNS_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
/** The name part of a qualified name (label key, annotation key): at most 63 characters. */
const NAME_PART = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
/** A label or annotation key: an optional DNS subdomain prefix and `/`, then a name part. */
export const QUALIFIED_NAME = `(${DNS_SUBDOMAIN}/)?${NAME_PART}`;
/** A label value: empty, or a name part (its field's maxLength of 63 bounds the length, which keeps the rule cheap). */
export const LABEL_VALUE = '([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
/** A key of a Secret or ConfigMap (IsConfigMapKey). */
const CONFIG_KEY = '[-._a-zA-Z0-9]+';

/** A rule that the whole of `self` matches `pattern`. */
export function matchesRule(pattern: string, message: string): ValidationRule {
  if (pattern.includes("'")) throw new Error(`a CEL raw string cannot hold a single quote: ${pattern}`);
  return { rule: `self.matches(r'^(${pattern})$')`, message };
}

const SUBDOMAIN_WORDS =
  "a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. my-name)";
export const QUALIFIED_NAME_WORDS =
  "a name of at most 63 characters (letters, digits, '-', '_' or '.', starting and ending with a letter or digit), " +
  'optionally after a lowercase DNS subdomain prefix of at most 253 characters and a / (e.g. example.com/my-name)';
export const LABEL_VALUE_WORDS =
  "at most 63 characters, empty or letters, digits, '-', '_' or '.' starting and ending with a letter or digit";

/** A checked string of 1 to `maxLength` characters. */
function checkedString(maxLength: number, description: string, rule: ValidationRule) {
  return z.string().min(1).max(maxLength).meta({ description, 'x-kubernetes-validations': [rule] });
}

/** The name of an object of the hook's (or run's) namespace (a Secret, a ConfigMap, a ServiceAccount). */
export function objectName(what: string, description: string, owner = 'hook') {
  // A ClusterDeployHook has no namespace of its own: its names resolve where its runs live.
  const where = owner === 'hook' ? "the hook's namespace (a ClusterDeployHook's: the one its runs live in)" : `the ${owner}'s namespace`;
  const message = `${what} must be ${SUBDOMAIN_WORDS}, the name of an object in ${where}, with no namespace/ prefix`;
  return checkedString(253, description, matchesRule(DNS_SUBDOMAIN, message));
}

/** A key of a Secret or ConfigMap. */
export function dataKey(description: string) {
  return checkedString(253, description, {
    rule: `self.matches(r'^${CONFIG_KEY}$') && self != '.' && !self.startsWith('..')`,
    message: "a key of a Secret or ConfigMap consists of letters, digits, '-', '_' and '.', and is not . and does not start with ..",
  });
}

/** CEL: whether `subject` is a qualified name (the pattern bounds all but the prefix's length). */
const isQualifiedName = (subject: string) => `!${subject}.matches(r'^[^/]{254,}/') && ${subject}.matches(r'^(${QUALIFIED_NAME})$')`;

/** A label key, annotation key or the like (topologyKey, a taint's key). */
export function qualifiedName(description: string, field: string) {
  return checkedString(317, description, { rule: isQualifiedName('self'), message: `${field} must be ${QUALIFIED_NAME_WORDS}` });
}

/**
 * The rule of a map whose keys are label or annotation keys. The API server estimates a map key's
 * size as zero (its schema has no maxLength), so the rule costs little; at run time `size(k)`
 * first keeps a huge key from costing much (`&&` stops at the first false).
 */
export function qualifiedKeysRule(field: string): ValidationRule {
  return { rule: `self.all(k, size(k) <= 317 && ${isQualifiedName('k')})`, message: `every key of ${field} must be ${QUALIFIED_NAME_WORDS}` };
}

/** A label value: at most 63 characters (the schema's maxLength), alphanumerics with -, _, . inside. */
export function labelValueField(field: string) {
  return z
    .string()
    .max(63)
    .meta({ 'x-kubernetes-validations': [matchesRule(LABEL_VALUE, `${field} must be a label value: ${LABEL_VALUE_WORDS}`)] });
}

// As the API server's regular expressions: the length is a problem of its own.
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS_SUBDOMAIN}$`);
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The reasons an object's name is invalid, in kube-apiserver's words (what it checks of every
 * object's metadata.name: a namespace's as a label, the rest as subdomains); empty when it is valid.
 */
export function nameProblems(name: string, asLabel: boolean): string[] {
  const max = asLabel ? 63 : 253;
  const problems: string[] = [];
  if (name.length > max) problems.push(`must be no more than ${max} characters`);
  if (!(asLabel ? DNS1123_LABEL : DNS1123_SUBDOMAIN).test(name)) {
    problems.push(
      asLabel
        ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return problems;
}
