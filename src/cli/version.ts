// `certhook version` (and `certhook --version`).
import { versionLine } from '../version.ts';
import { parseOptions } from './usage.ts';

const HELP = `usage: certhook version

Prints certhook's version, the commit it was built from when known, and the version of Node.js
it runs on.`;

export async function runVersion(args: string[]): Promise<number> {
  if (!parseOptions(args, {}, HELP)) return 0;
  console.log(versionLine());
  return 0;
}
