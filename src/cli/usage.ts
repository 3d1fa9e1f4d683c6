// Option parsing shared by the subcommands: node's parseArgs, with errors a user can act on.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command cannot do what it was asked (a file it cannot read, an object that does not exist): one line, exit 1. */
export class CommandError extends Error {}

export class UsageError extends Error {
  readonly help: string;

  constructor(message: string, help: string) {
    super(message);
    this.help = help;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export type OptionValues = Record<string, string | string[] | boolean | undefined>;

/** Parses `args` against `options`; `--help` prints `help` and returns undefined. */
export function parseOptions(args: string[], options: Options, help: string): OptionValues | undefined {
  return parseCommandLine(args, options, help, false)?.values;
}

/** Like parseOptions, for a command that also takes operands (`-` among them: stdin). */
export function parseOptionsAndOperands(args: string[], options: Options, help: string): { values: OptionValues; operands: string[] } | undefined {
  return parseCommandLine(args, options, help, true);
}

function parseCommandLine(args: string[], options: Options, help: string, allowPositionals: boolean): { values: OptionValues; operands: string[] } | undefined {
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals }) as typeof parsed;
  } catch (err) {
    throw new UsageError((err as Error).message, help);
  }
  if (parsed.values.help) {
    console.log(help);
    return undefined;
  }
  return { values: parsed.values, operands: parsed.positionals };
}

/** A string option's value (parseArgs guarantees the type for `type: 'string'` options). */
export const stringOption = (values: OptionValues, name: string): string | undefined => values[name] as string | undefined;

/** A whole number within [min, max], or a UsageError naming the option. */
export function intOption(value: string | undefined, name: string, min: number, max: number, help: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`, help);
  return n;
}

/** A duration in seconds (fractions allowed) within [0, max], or a UsageError naming the option. */
export function secondsOption(value: string | undefined, name: string, max: number, help: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/s$/, ''));
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) throw new UsageError(`--${name} must be a number of seconds from 0 to ${max} (got "${value}")`, help);
  return n;
}

/** true or false, or a UsageError naming the option. */
export function booleanOption(value: string | undefined, name: string, help: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new UsageError(`--${name} must be true or false (got "${value}")`, help);
}
