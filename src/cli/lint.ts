// `certhook lint PATH...`: DeployHooks (and every certhook kind) checked offline, by the CRD's
// schema and CEL rules and the operator's own checks, for CI before anything reaches a cluster.
import { lintText, type LintProblem } from '../lint/lint-text.ts';
import { jsonReport, summary, textReport } from '../lint/report.ts';
import { readSources, UnreadableInput } from '../lint/sources.ts';
import { parseOptionsAndOperands, stringOption, UsageError } from './usage.ts';

const HELP = `usage: certhook lint [--strict] [--format text|json] PATH...

Checks every certhook object (DeployHook, DeployHookRun) in the files, directories (their *.yaml,
*.yml and *.json files, recursively) and - (standard input, e.g. kustomize build | certhook lint -)
without a cluster: the CRD's schema, unknown fields, the CEL rules, and what the operator checks
before it runs a hook (command guardrails, selectors, templates, pod keys, caBundle...). Each
problem is printed as file:line:column: field.path: message, in the API server's or the operator's
words. Objects of other kinds are skipped.

options:
  --strict        an object of the certhook.io group whose kind or version certhook does not serve
                  is a problem (by default it is skipped like any other kind)
  --format FMT    text (default) or json: an array of {file, line, column, path, message, kind, name}

exit codes: 0 no problems, 1 problems (or YAML that does not parse), 2 usage error (no PATH, an
unknown option, a path that cannot be read or a directory without manifests)`;

const FORMATS = { text: textReport, json: jsonReport };

export async function runLint(args: string[]): Promise<number> {
  const parsed = parseOptionsAndOperands(args, { strict: { type: 'boolean' }, format: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  const format = stringOption(parsed.values, 'format') ?? 'text';
  if (!Object.hasOwn(FORMATS, format)) throw new UsageError(`--format must be text or json (got "${format}")`, HELP);
  if (parsed.operands.length === 0) throw new UsageError('name at least one file or directory to check, or - for standard input', HELP);

  let sources;
  try {
    sources = await readSources(parsed.operands);
  } catch (err) {
    if (!(err instanceof UnreadableInput)) throw err;
    console.error(`certhook lint: ${err.message}`);
    return 2;
  }
  const problems: LintProblem[] = [];
  const totals = { files: sources.length, checked: 0, skipped: 0, problems: 0 };
  for (const source of sources) {
    const result = lintText(source.name, source.text, { strict: parsed.values.strict === true });
    problems.push(...result.problems);
    totals.checked += result.checked;
    totals.skipped += result.skipped;
  }
  totals.problems = problems.length;
  process.stdout.write(FORMATS[format as keyof typeof FORMATS](problems));
  console.error(`certhook lint: ${summary(totals)}`);
  return problems.length > 0 ? 1 : 0;
}
