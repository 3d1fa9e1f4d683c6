// A Dockerfile read into its stages and instructions: enough of the format (comments, line
// continuations, FROM ... AS name, flags such as --from=) for tests to check what an image holds.

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  keyword: string;
  /** `--name=value` flags before the arguments. */
  flags: Record<string, string>;
  /** The rest of the line: exec-form JSON arrays are parsed, anything else is split on spaces. */
  args: string[];
}

export interface Stage {
  /** The image it starts from. */
  from: string;
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
  return { keyword: keyword.toUpperCase(), flags, args };
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const line of logicalLines(text)) {
    const step = instruction(line);
    if (step.keyword === 'FROM') {
      const [from = '', as, name] = step.args;
      stages.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${step.keyword} before the first FROM`);
      stage.instructions.push(step);
    }
  }
  return stages;
}
