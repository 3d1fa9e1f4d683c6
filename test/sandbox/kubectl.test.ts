// The sandbox as a user's kubectl sees it: the real kubectl 1.34 binary against it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { load } from 'js-yaml';
import { createAuthority } from '../../src/certs/authority.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';
import { kubectlSession } from './kubectl-session.ts';
import { toolPath } from '../support/tools.ts';
import { eventually } from '../support/eventually.ts';

let sandbox: TestSandbox;

const { kubectl, file } = kubectlSession(() => sandbox);

const widgetCrdYaml = (description: string) => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      additionalPrinterColumns:
        - {name: Size, type: integer, jsonPath: .spec.size}
        - {name: Color, type: string, jsonPath: .spec.color}
      schema:
        openAPIV3Schema:
          type: object
          description: ${description}
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - {rule: "self.color != 'red' || self.size <= 5", message: red gadgets are at most size 5}
              properties:
                size: {type: integer, minimum: 1, description: How big the gadget is.}
                color: {type: string, default: blue}
`;

before(async () => {
  sandbox = await testSandbox();
});

after(() => sandbox.close());

describe('kubectl against the sandbox', () => {
  test('apply creates, then updates, a CRD; its kind becomes usable', async () => {
    const crd = await file('crd.yaml', widgetCrdYaml('A gadget.'));
    assert.match(await kubectl('apply', '-f', crd), /customresourcedefinition.apiextensions.k8s.io\/gadgets.example.com created/);
    await file('crd.yaml', widgetCrdYaml('A gadget, described again.'));
    assert.match(await kubectl('apply', '-f', crd), /configured/);
    assert.match(await kubectl('get', 'crd', 'gadgets.example.com', '-o', 'yaml'), /A gadget, described again./);
    assert.match(await kubectl('explain', 'gadgets.spec.size'), /How big the gadget is./);
  });

  test('apply of custom resources, get -o yaml with defaults, printer columns', async () => {
    const cr = await file('gadget.yaml', 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 3}\n');
    assert.match(await kubectl('apply', '-f', cr), /gadget.example.com\/g1 created/);
    const obj = load(await kubectl('get', 'gadget', 'g1', '-o', 'yaml')) as { spec: Record<string, unknown>; metadata: { generation: number } };
    assert.deepEqual(obj.spec, { size: 3, color: 'blue' });
    await file('gadget.yaml', 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {size: 4}\n');
    assert.match(await kubectl('apply', '-f', cr), /configured/);
    const table = await kubectl('get', 'gd');
    assert.match(table, /NAME\s+SIZE\s+COLOR\s*\n/);
    assert.match(table, /g1\s+4\s+blue/);
  });

  test('a CEL rule rejects an apply with its message, and an unknown field is refused', async () => {
    const bad = await file('bad.yaml', 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g2}\nspec: {size: 7, color: red}\n');
    const result = await sandbox.kubectl(['apply', '-f', bad]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /red gadgets are at most size 5/);
    const unknown = await file('unknown.yaml', 'apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g3}\nspec: {size: 1, colour: red}\n');
    const refused = await sandbox.kubectl(['apply', '-f', unknown]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unknown field "spec.colour"/);
    assert.equal((await sandbox.kubectl(['get', 'gadget', 'g2'])).code, 1);
  });

  test('create secret tls, label, annotate, patch --type merge, delete', async () => {
    const issued = createAuthority().issue({ dnsNames: ['kubectl.example.com'] });
    const cert = await file('tls.crt', issued.fullchainPem);
    const key = await file('tls.key', issued.keyPem);
    await kubectl('create', 'secret', 'tls', 'web-tls', `--cert=${cert}`, `--key=${key}`);
    const secret = JSON.parse(await kubectl('get', 'secret', 'web-tls', '-o', 'json')) as { type: string; data: Record<string, string> };
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.equal(Buffer.from(secret.data['tls.crt']!, 'base64').toString(), issued.fullchainPem);
    await kubectl('label', 'secret', 'web-tls', 'tier=edge');
    await kubectl('annotate', 'secret', 'web-tls', 'owner=team-a');
    await kubectl('patch', 'secret', 'web-tls', '--type', 'merge', '-p', '{"metadata":{"labels":{"patched":"yes"}}}');
    const meta = JSON.parse(await kubectl('get', 'secret', '-l', 'tier=edge,patched=yes', '-o', 'json')) as { items: { metadata: { annotations: Record<string, string> } }[] };
    assert.equal(meta.items.length, 1);
    assert.equal(meta.items[0]!.metadata.annotations.owner, 'team-a');
    assert.match(await kubectl('delete', 'secret', 'web-tls'), /deleted/);
    assert.equal((await sandbox.kubectl(['get', 'secret', 'web-tls'])).code, 1);
  });

  test('an immutable Secret: its data and the flag are refused, its metadata may change; a uid in a patch is a precondition', async () => {
    await kubectl('apply', '-f', await file('frozen.yaml', 'apiVersion: v1\nkind: Secret\nmetadata: {name: frozen}\nimmutable: true\nstringData: {a: one}\n'));
    const data = await sandbox.kubectl(['patch', 'secret', 'frozen', '--type', 'merge', '-p', '{"stringData":{"a":"two"}}']);
    assert.notEqual(data.code, 0);
    assert.match(data.stderr, /data: Forbidden: field is immutable when `immutable` is set/);
    const flag = await sandbox.kubectl(['patch', 'secret', 'frozen', '--type', 'merge', '-p', '{"immutable":false}']);
    assert.match(flag.stderr, /immutable: Forbidden: field is immutable when `immutable` is set/);
    await kubectl('patch', 'secret', 'frozen', '--type', 'strategic', '-p', '{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"a","uid":"u-1"}]}}');
    await kubectl('patch', 'secret', 'frozen', '--type', 'strategic', '-p', '{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"b","uid":"u-2"}]}}');
    const owners = (await kubectl('get', 'secret', 'frozen', '-o', 'jsonpath={.metadata.ownerReferences[*].uid}')).split(' ').sort();
    assert.deepEqual(owners, ['u-1', 'u-2'], 'a strategic merge of ownerReferences adds, by uid');
    const stale = await sandbox.kubectl(['patch', 'secret', 'frozen', '--type', 'merge', '-p', '{"metadata":{"uid":"not-its-uid","labels":{"x":"y"}}}']);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /Precondition failed: UID in precondition: not-its-uid, UID in object meta: /);
  });

  test('get -w streams changes as they happen', async () => {
    const bin = await toolPath('kubectl');
    const watcher = spawn(bin, ['get', 'configmaps', '-w', '--output-watch-events'], { env: { KUBECONFIG: sandbox.kubeconfigPath, HOME: sandbox.dir } });
    let out = '';
    watcher.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => assert.ok(sandbox.faults.openWatches > 0));
      await kubectl('create', 'configmap', 'watched', '--from-literal=a=1');
      await kubectl('label', 'configmap', 'watched', 'seen=yes');
      await kubectl('delete', 'configmap', 'watched');
      await eventually(() => {
        assert.match(out, /ADDED\s+watched/);
        assert.match(out, /MODIFIED\s+watched/);
        assert.match(out, /DELETED\s+watched/);
      });
    } finally {
      watcher.kill();
    }
  });

  test('a Job runs: wait --for=condition=complete, then logs job/...', async () => {
    const job = await file('job.yaml', `
apiVersion: batch/v1
kind: Job
metadata: {name: hello}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox
          command: [sh, -c, 'echo "hello from $GREETING"']
          env: [{name: GREETING, value: the sandbox}]
`);
    await kubectl('apply', '-f', job);
    await kubectl('wait', '--for=condition=complete', 'job/hello', '--timeout=60s');
    assert.equal((await kubectl('logs', 'job/hello')).trim(), 'hello from the sandbox');
    assert.match(await kubectl('get', 'jobs'), /hello\s+Complete\s+1\/1/);
  });
});
