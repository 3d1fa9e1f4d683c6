// How lint's findings are printed: one `file:line:column: path: message` line each, or JSON.
import type { LintProblem } from './lint-text.ts';

export function textReport(problems: LintProblem[]): string {
  return problems
    .map((p) => `${p.file}:${p.line}:${p.column}: ${p.path === '' ? '' : `${p.path}: `}${p.message}\n`)
    .join('');
}

export function jsonReport(problems: LintProblem[]): string {
  return `${JSON.stringify(problems, ['file', 'line', 'column', 'path', 'message', 'kind', 'name'], 2)}\n`;
}

/** The closing line: what was checked and what was found. */
export function summary(totals: { files: number; checked: number; skipped: number; problems: number }): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const scope = `${plural(totals.checked, 'certhook object')} in ${plural(totals.files, 'file')} (${totals.skipped} of other kinds skipped)`;
  return totals.problems === 0 ? `${scope}: no problems` : `${plural(totals.problems, 'problem')}; ${scope}`;
}
