// The bench's figures: small statistics, the table (what | certhook | baseline | ratio | target
// | met?), and RESULTS.md with the machine it ran on.
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';

export function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: number[]) => quantile(values, 0.5);

export interface Row {
  what: string;
  certhook: string;
  baseline: string;
  /** certhook ÷ baseline, or '' where there is no baseline. */
  ratio: string;
  target: string;
  /** undefined: informational, no target. */
  met: boolean | undefined;
}

export const ms = (v: number) => (Number.isFinite(v) ? (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`) : 'n/a');
export const mib = (bytes: number) => (Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : 'n/a');
export const bytes = (v: number) => (Number.isFinite(v) ? `${Math.round(v)} B` : 'n/a');
export const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : 'n/a');
export const num = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'yes' : 'MISSED');

export function table(rows: Row[]): string {
  const header = ['what', 'certhook', 'baseline', 'ratio', 'target', 'met?'];
  const cells = rows.map((r) => [r.what, r.certhook, r.baseline, r.ratio, r.target, verdict(r.met)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory; Node ${process.version}`;
}

export async function writeResults(file: string, opts: { command: string; rows: Row[]; notes: string[]; started: Date }): Promise<void> {
  const missed = opts.rows.filter((r) => r.met === false).map((r) => r.what);
  const text = [
    '# certhook at scale',
    '',
    'Written by `npm run bench` (bench/scale.ts): the operator, as its own process, against the in-process',
    'sandbox API server (workloads off: hook Jobs are created, never run). Every figure stands beside a',
    'baseline measured in the same run, on the same machine.',
    '',
    `- date: ${opts.started.toISOString()}`,
    `- machine: ${machine()}`,
    `- command: \`${opts.command}\``,
    '',
    table(opts.rows),
    '',
    missed.length ? `**MISSED**: ${missed.join('; ')}` : 'Every target met.',
    '',
    ...(opts.notes.length ? ['## Notes', '', ...opts.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  await writeFile(file, text);
}
