import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Kubelet } from '../../src/sandbox/kubelet.ts';
import type { KubeObject } from '../../src/sandbox/store.ts';
import { condition, isAlive, readPid, secretData, shellPod, startHarness, status, waitFor, type Harness } from './workloads-harness.ts';

const NS = 'default';

function pod(h: Harness, name: string): KubeObject {
  return h.api.get(h.pods, NS, name);
}

async function podEnded(h: Harness, name: string): Promise<KubeObject> {
  return waitFor(`pod ${name} to end`, () => {
    const p = pod(h, name);
    return ['Succeeded', 'Failed'].includes(status(p).phase) && p;
  });
}

const terminated = (p: KubeObject) => status(p).containerStatuses[0].state.terminated;
const log = (h: Harness, name: string) => h.logs.read(NS, name).toString();

function envOf(output: string): Map<string, string> {
  return new Map(output.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('sandbox kubelet', () => {
  test('runs the command as a process and reports Pending, Running, Succeeded', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const go = join(h.scratch, 'go');
    h.api.create(h.pods, NS, shellPod('runner', `while [ ! -e ${go} ]; do sleep 0.05; done; echo out; echo err >&2`));

    const running = await waitFor('the pod to run', () => {
      const p = pod(h, 'runner');
      return status(p).phase === 'Running' && p;
    });
    assert.equal((running.spec as { nodeName?: string }).nodeName, 'sandbox-node');
    assert.equal(status(running).podIP, '127.0.0.1');
    assert.equal(status(running).hostIP, '127.0.0.1');
    assert.ok(status(running).startTime);
    for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) assert.ok(condition(running, type), type);
    const container = status(running).containerStatuses[0];
    assert.equal(container.ready, true);
    assert.ok(container.state.running.startedAt);
    const pid = Number(/^sandbox:\/\/(\d+)$/.exec(container.containerID)?.[1]);
    assert.ok(isAlive(pid), 'the containerID names the running process');

    writeFileSync(go, '');
    const done = await podEnded(h, 'runner');
    assert.equal(status(done).phase, 'Succeeded');
    assert.equal(terminated(done).exitCode, 0);
    assert.equal(terminated(done).reason, 'Completed');
    assert.equal(condition(done, 'Ready'), undefined);
    assert.match(log(h, 'runner'), /^out$/m);
    assert.match(log(h, 'runner'), /^err$/m);
    assert.ok(h.logs.isFinished(NS, 'runner'));
  });

  test('builds the env from values, Secrets, ConfigMaps and the pod, with $(VAR) expansion and only PATH from the host', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    process.env.SANDBOX_TEST_HOST_ONLY = 'leaked';
    t.after(() => delete process.env.SANDBOX_TEST_HOST_ONLY);
    h.api.create(h.secrets, NS, { metadata: { name: 'creds' }, data: secretData({ password: 's3cret' }) });
    h.api.create(h.configMaps, NS, { metadata: { name: 'settings' }, data: { mode: 'fast', level: 'debug' } });
    h.api.create(h.pods, NS, {
      metadata: { name: 'env-check', labels: { app: 'certhook' } },
      spec: {
        restartPolicy: 'Never',
        serviceAccountName: 'hooks',
        containers: [{
          name: 'main',
          image: 'alpine:3',
          command: ['sh', '-c', 'env; echo "arg=$1"', 'sh', '$(GREETING)-$(UNDEFINED)'],
          envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CM_' }],
          env: [
            { name: 'GREETING', value: 'hello' },
            { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
            { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
            { name: 'NOT_THERE', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
            { name: 'NOR_THIS', valueFrom: { configMapKeyRef: { name: 'no-such-cm', key: 'k', optional: true } } },
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
            { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
            { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
            { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'COMBINED', value: '$(GREETING)/$(MODE)/$$(GREETING)/$(LATER)' },
            { name: 'LATER', value: 'later' },
          ],
        }],
      },
    });

    const done = await podEnded(h, 'env-check');
    assert.equal(terminated(done).exitCode, 0, log(h, 'env-check'));
    const env = envOf(log(h, 'env-check'));
    assert.equal(env.get('GREETING'), 'hello');
    assert.equal(env.get('PASSWORD'), 's3cret');
    assert.equal(env.get('MODE'), 'fast');
    assert.equal(env.get('CM_mode'), 'fast');
    assert.equal(env.get('CM_level'), 'debug');
    assert.equal(env.has('NOT_THERE'), false);
    assert.equal(env.has('NOR_THIS'), false);
    assert.equal(env.get('POD_NAME'), 'env-check');
    assert.equal(env.get('POD_NAMESPACE'), NS);
    assert.equal(env.get('POD_UID'), done.metadata.uid);
    assert.equal(env.get('APP'), 'certhook');
    assert.equal(env.get('SA'), 'hooks');
    assert.equal(env.get('POD_IP'), '127.0.0.1');
    // Only earlier variables expand; `$$` escapes; unknown references stay as written.
    assert.equal(env.get('COMBINED'), 'hello/fast/$(GREETING)/$(LATER)');
    assert.equal(env.get('arg'), 'hello-$(UNDEFINED)');
    assert.equal(env.get('PATH'), process.env.PATH);
    assert.equal(env.has('SANDBOX_TEST_HOST_ONLY'), false);
  });

  test('writes Secret, ConfigMap and emptyDir volumes, with items, modes and mount paths rewritten', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.secrets, NS, { metadata: { name: 'tls' }, data: secretData({ 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'CA' }) });
    h.api.create(h.configMaps, NS, { metadata: { name: 'conf' }, data: { 'app.conf': 'a=1' }, binaryData: { 'blob.bin': Buffer.from('BIN').toString('base64') } });
    h.api.create(h.pods, NS, shellPod('volumes', [
      'echo "workdir=$(pwd -P)"',
      'cd /etc/tls && find . | sort',
      'stat -c "%a %n" certs/leaf.pem key.pem',
      'stat -c "%a" /etc/conf/app.conf',
      'cat /etc/conf/app.conf /etc/conf/blob.bin; echo',
      'cat "$LEAF"; echo',
      'echo scratch > /scratch/file && cat /scratch/file',
    ].join('; '), {
      pod: {
        volumes: [
          { name: 'tls', secret: { secretName: 'tls', defaultMode: 0o440, items: [{ key: 'tls.crt', path: 'certs/leaf.pem' }, { key: 'tls.key', path: 'key.pem', mode: 0o400 }] } },
          { name: 'conf', configMap: { name: 'conf' } },
          { name: 'scratch', emptyDir: {} },
        ],
      },
      container: {
        env: [{ name: 'LEAF', value: '/etc/tls/certs/leaf.pem' }],
        workingDir: '/scratch',
        volumeMounts: [
          { name: 'tls', mountPath: '/etc/tls', readOnly: true },
          { name: 'conf', mountPath: '/etc/conf/' },
          { name: 'scratch', mountPath: '/scratch' },
        ],
      },
    }));

    const done = await podEnded(h, 'volumes');
    const out = log(h, 'volumes');
    assert.equal(terminated(done).exitCode, 0, out);
    const [workdir, ...lines] = out.split('\n');
    assert.match(workdir!, /^workdir=\/.+\/volumes\/scratch$/);
    assert.deepEqual(lines, ['.', './certs', './certs/leaf.pem', './key.pem', '440 certs/leaf.pem', '400 key.pem', '644', 'a=1BIN', 'CERT', 'scratch', '']);
  });

  test('a missing Secret in the env keeps the container waiting with CreateContainerConfigError until it exists', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.pods, NS, shellPod('early', 'echo "token=$TOKEN"', {
      container: { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'late', key: 'token' } } }] },
    }));

    const waiting = await waitFor('the container to wait', () => {
      const p = pod(h, 'early');
      return status(p).containerStatuses?.[0]?.state.waiting?.reason === 'CreateContainerConfigError' && p;
    });
    assert.equal(status(waiting).phase, 'Pending');
    assert.equal(status(waiting).containerStatuses[0].state.waiting.message, 'secret "late" not found');

    h.api.create(h.secrets, NS, { metadata: { name: 'late' }, data: secretData({ other: 'x' }) });
    await waitFor('the missing key to be reported', () =>
      status(pod(h, 'early')).containerStatuses[0].state.waiting?.message === "couldn't find key token in Secret default/late");

    const secret = h.api.get(h.secrets, NS, 'late');
    h.api.update(h.secrets, NS, 'late', { ...secret, data: secretData({ token: 'abc' }) });
    const done = await podEnded(h, 'early');
    assert.equal(status(done).phase, 'Succeeded');
    assert.match(log(h, 'early'), /^token=abc$/m);
  });

  test('a missing Secret volume keeps the container creating until the Secret exists', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.pods, NS, shellPod('mounts-late', 'cat /certs/tls.crt', {
      pod: { volumes: [{ name: 'certs', secret: { secretName: 'late-tls' } }] },
      container: { volumeMounts: [{ name: 'certs', mountPath: '/certs' }] },
    }));

    const waiting = await waitFor('the container to wait', () => {
      const p = pod(h, 'mounts-late');
      return status(p).containerStatuses?.[0]?.state.waiting?.message?.includes('secret "late-tls" not found') && p;
    });
    assert.equal(status(waiting).phase, 'Pending');
    assert.equal(status(waiting).containerStatuses[0].state.waiting.reason, 'ContainerCreating');

    h.api.create(h.secrets, NS, { metadata: { name: 'late-tls' }, data: secretData({ 'tls.crt': 'LATE-CERT' }) });
    const done = await podEnded(h, 'mounts-late');
    assert.equal(status(done).phase, 'Succeeded');
    assert.equal(log(h, 'mounts-late'), 'LATE-CERT');
  });

  test('mounts a service account token only when the pod names an account and asks for the token', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    const script = `echo "dir=${dir}"; cat ${dir}/namespace 2>/dev/null; echo; cat ${dir}/token 2>/dev/null`;
    h.api.create(h.pods, NS, shellPod('with-token', script, { pod: { serviceAccountName: 'hooks', automountServiceAccountToken: true } }));
    h.api.create(h.pods, NS, shellPod('account-only', script, { pod: { serviceAccountName: 'hooks' } }));
    h.api.create(h.pods, NS, shellPod('automount-only', script, { pod: { automountServiceAccountToken: true } }));

    await podEnded(h, 'with-token');
    const [dirLine, namespace, token] = log(h, 'with-token').split('\n');
    assert.notEqual(dirLine, `dir=${dir}`, 'the token directory maps to a host directory');
    assert.equal(namespace, NS);
    assert.ok(token);
    for (const name of ['account-only', 'automount-only']) {
      await podEnded(h, name);
      assert.equal(log(h, name).split('\n')[0], `dir=${dir}`, name);
    }
  });

  test('a container without a command cannot start: the pod fails with StartError', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.pods, NS, { metadata: { name: 'image-only' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'nginx', args: ['-g', 'daemon off;'] }] } });
    h.api.create(h.pods, NS, { metadata: { name: 'no-binary' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'x', command: ['/no/such/binary'] }] } });

    const imageOnly = await podEnded(h, 'image-only');
    assert.equal(status(imageOnly).phase, 'Failed');
    assert.equal(terminated(imageOnly).reason, 'StartError');
    assert.equal(terminated(imageOnly).exitCode, 128);
    assert.match(terminated(imageOnly).message, /no command.*image "nginx"/);
    const noBinary = await podEnded(h, 'no-binary');
    assert.equal(terminated(noBinary).reason, 'StartError');
    assert.match(terminated(noBinary).message, /ENOENT/);
  });

  test('a process killed by a signal exits with 128 + the signal', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    // `$$` is Kubernetes' escape for `$` in commands, so the shell sees `kill -9 $$`.
    h.api.create(h.pods, NS, shellPod('killed', 'kill -9 $$$$'));

    const done = await podEnded(h, 'killed');
    assert.equal(status(done).phase, 'Failed');
    assert.equal(terminated(done).exitCode, 137);
    assert.equal(terminated(done).reason, 'Error');
  });

  test('deleting a running pod kills its processes and removes its directory', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const pidFile = join(h.scratch, 'pid');
    // A child in the background as well: the whole container goes, not just its first process.
    h.api.create(h.pods, NS, shellPod('victim', `sleep 30 & echo $! > ${pidFile}; echo "home=$HOME"; wait`));
    const child = await readPid(pidFile);
    const home = await waitFor('the home line', () => /^home=(.+)$/m.exec(log(h, 'victim'))?.[1]);
    assert.ok(existsSync(home));

    h.api.delete(h.pods, NS, 'victim');
    await waitFor('the child process to die', () => !isAlive(child), 10_000);
    await waitFor('the pod directory to go', () => !existsSync(home), 10_000);
    assert.equal(h.logs.has(NS, 'victim'), false);
  });

  test("command and args get Kubernetes' expansion: $(VAR) of a defined variable, $$ is $, $$(VAR) stays $(VAR), unknown references stay", async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    // printf prints its arguments as they are: what it prints is what the kubelet passed.
    h.api.create(h.pods, NS, shellPod('expanded', 'printf "[%s]\\n" "$$@"', {
      container: {
        args: ['sh', '$$', '$$(GREETING)', '$(GREETING)', '$(NOPE)', '$$$(GREETING)', '$$$$', '$(date +%Y)', '$GREETING', '${GREETING}'],
        env: [{ name: 'GREETING', value: 'hello' }],
      },
    }));
    const done = await podEnded(h, 'expanded');
    assert.equal(terminated(done).exitCode, 0, log(h, 'expanded'));
    assert.equal(log(h, 'expanded'), ['[$]', '[$(GREETING)]', '[hello]', '[$(NOPE)]', '[$hello]', '[$$]', '[$(date +%Y)]', '[$GREETING]', '[${GREETING}]', ''].join('\n'));
  });

  test("stopping a pod sends SIGTERM to the container's first process only, as the runtime does; the others are killed with it", async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    const dir = h.scratch;
    // The first process and a child of its own each record the SIGTERM they get.
    const child = `trap "echo term > ${dir}/child-term; exit 0" TERM; echo $$$$ > ${dir}/child.pid; sleep 30 & wait`;
    h.api.create(h.pods, NS, shellPod('stopping', `trap 'echo term > ${dir}/main-term; exit 0' TERM; sh -c '${child}' & wait`));
    const childPid = await readPid(join(dir, 'child.pid'));
    h.api.delete(h.pods, NS, 'stopping');
    await waitFor('the child to die', () => !isAlive(childPid), 10_000);
    assert.ok(existsSync(join(dir, 'main-term')), 'the first process got SIGTERM');
    assert.equal(existsSync(join(dir, 'child-term')), false, 'the child got SIGKILL only');
  });

  test('a pod that was running when the kubelet stopped is reported lost by the next kubelet', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.pods, NS, shellPod('interrupted', 'exec sleep 30'));
    await waitFor('the pod to run', () => status(pod(h, 'interrupted')).phase === 'Running');

    await h.workloads.kubelet.stop();
    const next = new Kubelet(h.api, h.logs);
    next.start();
    t.after(() => next.stop());
    const lost = await podEnded(h, 'interrupted');
    assert.equal(status(lost).phase, 'Failed');
    assert.equal(terminated(lost).reason, 'ContainerStatusUnknown');
    assert.equal(terminated(lost).exitCode, 137);
  });

  test('a pod bound to another node is left alone', async (t) => {
    const h = startHarness();
    t.after(() => h.close());
    h.api.create(h.pods, NS, shellPod('elsewhere', 'true', { pod: { nodeName: 'other-node' } }));
    h.api.create(h.pods, NS, shellPod('here', 'true'));

    await podEnded(h, 'here');
    assert.equal(status(pod(h, 'elsewhere')).phase, 'Pending');
    assert.equal(status(pod(h, 'elsewhere')).containerStatuses, undefined);
  });
});
