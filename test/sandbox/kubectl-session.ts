// kubectl against a test sandbox, for tests that expect each command to succeed.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestSandbox } from '../support/sandbox.ts';

export interface KubectlSession {
  /** Runs kubectl; a non-zero exit fails the test with kubectl's stderr. Returns stdout. */
  kubectl(...args: string[]): Promise<string>;
  /** Writes a file into the sandbox's directory; returns its path. */
  file(name: string, text: string): Promise<string>;
}

export function kubectlSession(sandbox: () => TestSandbox): KubectlSession {
  return {
    async kubectl(...args) {
      const result = await sandbox().kubectl(args);
      assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
      return result.stdout;
    },
    async file(name, text) {
      const path = join(sandbox().dir, name);
      await writeFile(path, text);
      return path;
    },
  };
}
