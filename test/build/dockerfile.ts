// A Dockerfile read into its stages and instructions: enough of the format (comments, line
// continuations, FROM ... AS name with the ARGs declared before the first FROM expanded, flags such
// as --from=, LABEL key="value" pairs) for tests to check what an image holds.

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  keyword: string;
  /** `--name=value` flags before the arguments. */
  flags: Record<string, string>;
  /** The rest of the line: exec-form JSON arrays are parsed, anything else is split on spaces. */
  args: string[];
  /** The rest of the line as written, after the flags. */
  text: string;
}

export interface Stage {
  /** The image it starts from. */
  from: string;
  /** FROM's --platform, as written. */
  platform?: string;
  name?: string;
  instructions: Instruction[];
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (!line && !pending)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    lines.push(pending + line);
    pending = '';
  }
  if (pending) lines.push(pending.trim());
  return lines;
}

function instruction(line: string): Instruction {
  const [keyword = '', ...words] = line.split(/\s+/);
  const flags: Record<string, string> = {};
  while (words[0]?.startsWith('--')) {
    const [name, value = ''] = words.shift()!.slice(2).split(/=(.*)/s);
    flags[name!] = value;
  }
  const rest = words.join(' ');
  const args = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : words;
  return { keyword: keyword.toUpperCase(), flags, args, text: rest };
}

/** `key=value` pairs, the value possibly double-quoted (as ARG, ENV and LABEL write them), unquoted. */
export function keyValues(text: string): Record<string, string> {
  const pairs = [...text.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)];
  return Object.fromEntries(pairs.map(([, key, value]) => [key!, value!.startsWith('"') ? (JSON.parse(value!) as string) : value!]));
}

/** `${NAME}` and `$NAME` replaced by the ARG's value ('' for an undeclared one). */
const expand = (text: string, args: Record<string, string>) => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, braced?: string, bare?: string) => args[braced ?? bare!] ?? '');

/**
 * The stages, with the ARGs declared before the first FROM expanded in FROM lines: their defaults,
 * or what `buildArgs` passes (as `docker build --build-arg` would).
 */
export function parseDockerfile(text: string, buildArgs: Record<string, string> = {}): Stage[] {
  const stages: Stage[] = [];
  const globalArgs: Record<string, string> = {};
  for (const line of logicalLines(text)) {
    const step = instruction(line);
    if (step.keyword === 'ARG' && !stages.length) {
      const name = step.text.split('=')[0]!;
      globalArgs[name] = buildArgs[name] ?? keyValues(step.text)[name] ?? '';
    } else if (step.keyword === 'FROM') {
      const [from = '', as, name] = step.args;
      stages.push({ from: expand(from, globalArgs), ...(step.flags.platform ? { platform: step.flags.platform } : {}), ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${step.keyword} before the first FROM`);
      stage.instructions.push(step);
    }
  }
  return stages;
}
