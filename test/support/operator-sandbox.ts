// A test file's sandbox with the operator running against it: started before the file's tests,
// stopped after them, with a fresh namespace per test.
import { after, before } from 'node:test';
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { clients, startTestOperator, type TestOperator } from './operator.ts';
import { testSandbox, type TestSandbox } from './sandbox.ts';

export interface OperatorSandbox {
  sandbox: TestSandbox;
  op: TestOperator;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** Creates a namespace of its own for one test. */
  namespace(): Promise<string>;
}

export function useOperatorSandbox(prefix: string): OperatorSandbox {
  let count = 0;
  const env = {
    async namespace() {
      const name = `${prefix}${++count}`;
      await env.core.createNamespace({ body: { metadata: { name } } });
      return name;
    },
  } as OperatorSandbox;
  before(async () => {
    env.sandbox = await testSandbox();
    env.op = await startTestOperator(env.sandbox);
    Object.assign(env, clients(env.sandbox));
  });
  after(async () => {
    await env.op.stop();
    await env.sandbox.close();
  });
  return env;
}
