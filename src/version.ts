// certhook's version, from its package.json: the nearest one above this module (beside src/ from
// a clone, beside dist/ in the image, above any other directory the sources are compiled into);
// and the commit, when that directory is a git checkout.
import { existsSync, readFileSync } from 'node:fs';

function packageRoot(): { root: URL; version: string } | undefined {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'certhook' && pkg.version) return { root: dir, version: pkg.version };
    }
    if (dir.pathname === '/') return undefined;
  }
}

/** The commit a git checkout at `root` is on, read from .git without running git. */
function gitCommit(root: URL): string | undefined {
  try {
    const git = new URL('.git/', root);
    const head = readFileSync(new URL('HEAD', git), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    const loose = new URL(ref, git);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = readFileSync(new URL('packed-refs', git), 'utf8').split('\n').find((line) => line.endsWith(` ${ref}`));
    return packed?.split(' ')[0];
  } catch {
    return undefined;
  }
}

const found = packageRoot();
export const VERSION: string = found?.version ?? '0.0.0-unknown';
export const COMMIT: string | undefined = found && gitCommit(found.root);

/** `certhook 0.1.0 (commit 1a2b3c4), Node v24.21.0`. */
export const versionLine = () => `certhook ${VERSION}${COMMIT ? ` (commit ${COMMIT.slice(0, 12)})` : ''}, Node ${process.version}`;
