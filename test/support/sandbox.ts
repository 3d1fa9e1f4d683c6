// A sandbox per test file, with a kubeconfig on disk for kubectl and helm.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { runTool, type ToolResult } from './tools.ts';

export interface TestSandbox extends Sandbox {
  readonly dir: string;
  readonly kubeconfigPath: string;
  kubectl(args: string[], input?: string): Promise<ToolResult>;
  helm(args: string[]): Promise<ToolResult>;
}

export async function testSandbox(opts: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox(opts);
  const dir = await mkdtemp(join(tmpdir(), 'certhook-test-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, sandbox.kubeconfig(), { mode: 0o600 });
  return {
    ...sandbox,
    dir,
    kubeconfigPath,
    kubectl: (args: string[], input?: string) => runTool('kubectl', kubeconfigPath, args, input),
    helm: (args: string[]) => runTool('helm', kubeconfigPath, args),
    async close() {
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
