// A test file's sandbox, started before the file's tests and stopped after them, with a fresh
// namespace per test, and either one operator for all its tests or operators each test starts.
import { after, before, type TestContext } from 'node:test';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { clients, startTestOperator, TEST_CLUSTER_HOOK_NAMESPACE, type TestOperator } from './operator.ts';
import type { SandboxOptions } from '../../src/sandbox/index.ts';
import { testSandbox, type TestSandbox } from './sandbox.ts';

export interface SandboxForOperators {
  sandbox: TestSandbox;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** Creates a namespace of its own for one test. */
  namespace(): Promise<string>;
  /** An operator for one test, stopped when the test ends however it ends. */
  operatorFor(t: TestContext, opts: Parameters<typeof startTestOperator>[1]): Promise<TestOperator>;
}

export interface OperatorSandbox extends SandboxForOperators {
  /** The operator every test of the file shares. */
  op: TestOperator;
}

/** A test file's sandbox, where each test starts (and restarts) operators of its own. */
export function useSandboxForOperators(prefix: string, opts: SandboxOptions = {}): SandboxForOperators {
  return useSandbox(prefix, opts, false);
}

/** A test file's sandbox with one operator running against it for all its tests. */
export function useOperatorSandbox(prefix: string): OperatorSandbox {
  return useSandbox(prefix, {}, true) as OperatorSandbox;
}

function useSandbox(prefix: string, opts: SandboxOptions, sharedOperator: boolean): SandboxForOperators & { op?: TestOperator } {
  let count = 0;
  const env = {
    async namespace() {
      const name = `${prefix}${++count}`;
      await env.core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
    async operatorFor(t: TestContext, operatorOpts: Parameters<typeof startTestOperator>[1]) {
      const op = await startTestOperator(env.sandbox, operatorOpts);
      t.after(() => op.stop());
      return op;
    },
  } as SandboxForOperators & { op?: TestOperator };
  before(async () => {
    env.sandbox = await testSandbox(opts);
    // Where the test operators' ClusterDeployHooks' runs live, unless a test says otherwise.
    env.sandbox.api.create(env.sandbox.api.type('', 'namespaces'), undefined, { metadata: { name: TEST_CLUSTER_HOOK_NAMESPACE } });
    if (sharedOperator) env.op = await startTestOperator(env.sandbox);
    Object.assign(env, clients(env.sandbox));
  });
  after(async () => {
    await env.op?.stop();
    await env.sandbox.close();
  });
  return env;
}
