// certhook's version, from its package.json: the nearest one above this module (beside src/ from
// a clone, beside dist/ in the image, above any other directory the sources are compiled into).
import { existsSync, readFileSync } from 'node:fs';

function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    const file = new URL('package.json', dir);
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'certhook' && pkg.version) return pkg.version;
    }
    if (dir.pathname === '/') return '0.0.0-unknown';
  }
}

export const VERSION: string = packageVersion();
