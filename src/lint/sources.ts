// What `certhook lint` reads: files as named, directories walked for manifests, `-` for stdin.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { text } from 'node:stream/consumers';

export interface Source {
  /** As it is reported: the path given (joined with the walk below a directory), `<stdin>` for `-`. */
  name: string;
  text: string;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
export const STDIN_NAME = '<stdin>';

/** An operand that cannot be read: a usage error, reported before anything is linted. */
export class UnreadableInput extends Error {
  override name = 'UnreadableInput';
}

/**
 * Every source the operands name, in their order; below a directory its *.yaml, *.yml and *.json
 * files in name order, hidden entries (.git, ...) passed over. Throws UnreadableInput naming every
 * operand that cannot be read, and a directory that holds no manifest (a mistyped path in CI
 * should fail, not pass with nothing checked).
 */
export async function readSources(operands: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<Source[]> {
  const failures: string[] = [];
  const sources: Source[] = [];
  let stdinText: Promise<string> | undefined;
  for (const operand of operands) {
    try {
      if (operand === '-') sources.push({ name: STDIN_NAME, text: await (stdinText ??= text(stdin)) });
      else sources.push(...(await readPath(operand)));
    } catch (err) {
      failures.push(err instanceof UnreadableInput ? err.message : `cannot read ${operand}: ${reason(err as NodeJS.ErrnoException)}`);
    }
  }
  if (failures.length) throw new UnreadableInput(failures.join('\n'));
  return sources;
}

/** The system's reason without the call and path node repeats after it. */
function reason(err: NodeJS.ErrnoException): string {
  return err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
}

async function readPath(path: string): Promise<Source[]> {
  if (!(await stat(path)).isDirectory()) return [{ name: path, text: await readFile(path, 'utf8') }];
  const files = await manifestsBelow(path);
  if (files.length === 0) throw new UnreadableInput(`${path} holds no .yaml, .yml or .json file`);
  return Promise.all(files.map(async (file) => ({ name: file, text: await readFile(file, 'utf8') })));
}

async function manifestsBelow(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await manifestsBelow(path)));
    else if (MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found;
}
