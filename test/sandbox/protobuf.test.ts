// Protobuf request bodies: the decoder on its own, and the real kubectl's typed `create` commands
// against the sandbox (`create job` is in server-side-apply.test.ts, with the workloads running).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { createAuthority } from '../../src/certs/authority.ts';
import { decodeKubernetesProtobuf, PROTOBUF_CONTENT_TYPE, ProtobufError } from '../../src/sandbox/protobuf.ts';
import { OBJECT_TYPES, UNKNOWN } from '../../src/sandbox/protobuf-types.ts';
import { testSandbox, type TestSandbox } from '../support/sandbox.ts';

type Json = Record<string, unknown>;

const MAGIC = Buffer.from('k8s\0', 'latin1');

/** A body as Go's protobuf serializer frames it: magic, then runtime.Unknown around the object. */
function frame(apiVersion: string, kind: string, raw: Uint8Array, extra: Json = {}): Buffer {
  const envelope = UNKNOWN.encode(UNKNOWN.fromObject({ typeMeta: { apiVersion, kind }, raw, ...extra })).finish();
  return Buffer.concat([MAGIC, envelope]);
}

const TIME_KEYS = new Set(['creationTimestamp', 'deletionTimestamp', 'lastTransitionTime']);

/** The JSON form's RFC 3339 strings become metav1.Time messages; everything else maps one to one. */
function protoShape(value: unknown, key = ''): unknown {
  if (typeof value === 'string' && TIME_KEYS.has(key)) return { seconds: Date.parse(value) / 1000 };
  if (Array.isArray(value)) return value.map((item) => protoShape(item));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, protoShape(v, k)]));
  }
  return value;
}

function encode(object: Json): Buffer {
  const { apiVersion, kind, ...rest } = object as { apiVersion: string; kind: string };
  const type = OBJECT_TYPES[apiVersion]![kind]!;
  return frame(apiVersion, kind, type.encode(type.fromObject(protoShape(rest) as Json)).finish());
}

function encodeRaw(type: protobuf.Type, object: Json): Uint8Array {
  return type.encode(type.fromObject(object)).finish();
}

const fullMetadata = {
  name: 'edge-tls',
  generateName: 'edge-',
  namespace: 'web',
  uid: '6f1c2a4e-0000-4000-8000-000000000001',
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: '2024-05-06T07:08:09Z',
  deletionTimestamp: '2030-01-02T03:04:05Z',
  labels: { app: 'edge', 'certhook.io/watched': 'true' },
  annotations: { 'cert-manager.io/issuer-name': 'letsencrypt' },
  ownerReferences: [
    { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', name: 'edge', uid: 'c0ffee00-0000-4000-8000-000000000002', controller: true, blockOwnerDeletion: false },
  ],
  finalizers: ['example.com/keep'],
};

describe('decodeKubernetesProtobuf', () => {
  const roundTrips: Json[] = [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: fullMetadata,
      immutable: true,
      data: { 'tls.crt': Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64'), 'tls.key': Buffer.from([0, 255, 1, 254]).toString('base64') },
      stringData: { note: 'plain text' },
      type: 'kubernetes.io/tls',
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'web', labels: { tier: 'front' } },
      immutable: false,
      data: { 'app.conf': 'listen 443;\n', empty: '' },
      binaryData: { 'blob.bin': Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64') },
    },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'web', annotations: { owner: 'platform' } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Terminating', conditions: [{ type: 'NamespaceDeletionContentFailure', status: 'False', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'ContentDeleted', message: 'All content successfully deleted' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'hooks', namespace: 'web' },
      secrets: [{ kind: 'Secret', namespace: 'web', name: 'hooks-token', uid: 'abc', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'data' }],
      imagePullSecrets: [{ name: 'registry' }],
      automountServiceAccountToken: false,
    },
  ];

  for (const object of roundTrips) {
    test(`round-trips a ${object.kind} through protobuf to the same JSON`, () => {
      assert.deepEqual(decodeKubernetesProtobuf(encode(object)), object);
    });
  }

  // Bodies captured from kubectl 1.34's `create namespace x`, `create secret generic s
  // --from-literal=a=b -n x`, `create configmap c --from-literal=a=b -n x`, `create
  // serviceaccount sa -n x` and `create job j --image=busybox -n default -- sh -c 'echo hi'`. Go
  // writes every non-pointer field, empty or not.
  const captured: [string, Json][] = [
    [
      '6b3873000a0f0a02763112094e616d65737061636512190a110a017812001a0022002a0032003800420012001a020a001a002200',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, spec: {}, status: {} },
    ],
    [
      '6b3873000a0c0a0276311206536563726574121e0a120a017312001a017822002a0032003800420012060a01611201621a001a002200',
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'x' }, data: { a: 'Yg==' } },
    ],
    [
      '6b3873000a0f0a0276311209436f6e6669674d6170121c0a120a016312001a017822002a0032003800420012060a01611201621a002200',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'x' }, data: { a: 'b' } },
    ],
    [
      '6b3873000a140a027631120e536572766963654163636f756e7412150a130a02736112001a017822002a003200380042001a002200',
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'x' } },
    ],
    [
      '6b3873000a0f0a0862617463682f763112034a6f621290010a180a016a12001a0764656661756c7422002a00320038004200126a32680a100a0012001a0022002a00320038004200125412310a016a120762757379626f781a0273681a022d631a076563686f2068692a0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c201001a082000280030003a001a002200',
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'j', namespace: 'default' },
        spec: { template: { metadata: {}, spec: { containers: [{ name: 'j', image: 'busybox', command: ['sh', '-c', 'echo hi'], resources: {} }], restartPolicy: 'Never' } } },
      },
    ],
  ];

  for (const [hex, expected] of captured) {
    test(`decodes kubectl's own ${expected.kind} body, dropping Go's zero values`, () => {
      assert.deepEqual(decodeKubernetesProtobuf(Buffer.from(hex, 'hex')), expected);
    });
  }

  test('treats empty strings, zero numbers and an empty Time as unset, but keeps a false bool', () => {
    const secret = OBJECT_TYPES.v1!.Secret!;
    const raw = encodeRaw(secret, {
      metadata: { name: 'a', generateName: '', namespace: '', uid: '', resourceVersion: '', generation: 0, creationTimestamp: {} },
      type: '',
      immutable: false,
    });
    assert.deepEqual(decodeKubernetesProtobuf(frame('v1', 'Secret', raw)), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a' }, immutable: false });
  });

  test('keeps whole seconds of a timestamp, as Kubernetes does', () => {
    const raw = encodeRaw(OBJECT_TYPES.v1!.ConfigMap!, { metadata: { name: 'a', creationTimestamp: { seconds: 1_700_000_000, nanos: 999_000_000 } } });
    const decoded = decodeKubernetesProtobuf(frame('v1', 'ConfigMap', raw)) as { metadata: Json };
    assert.equal(decoded.metadata.creationTimestamp, '2023-11-14T22:13:20Z');
  });

  test("decodes a Job: Go's pointers keep their zero values, embedded structs are inlined, quantities are strings", () => {
    const job = OBJECT_TYPES['batch/v1']!.Job!;
    // Zero values of fields Go declares as pointers: set on purpose, so kept.
    const kept = { backoffLimit: 0, suspend: false };
    const raw = encodeRaw(job, {
      metadata: { name: 'j', namespace: '' },
      spec: {
        ...kept,
        template: {
          metadata: { labels: { app: 'j' } },
          spec: {
            restartPolicy: 'Never',
            hostNetwork: false,
            containers: [{
              name: 'main',
              image: 'busybox',
              command: ['sh', '-c', 'echo hi'],
              stdin: false,
              tty: false,
              env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { localObjectReference: { name: 'creds' }, key: 'token', optional: false } } }],
              envFrom: [{ configMapRef: { localObjectReference: { name: 'settings' } } }],
              resources: { limits: { cpu: { string: '500m' }, memory: { string: '64Mi' } }, requests: {} },
              volumeMounts: [{ name: 'certs', mountPath: '/certs', readOnly: true }, { name: 'scratch', mountPath: '/tmp', readOnly: false }],
              securityContext: { runAsNonRoot: true, runAsUser: 0, capabilities: { drop: ['ALL'] } },
            }],
            volumes: [
              { name: 'certs', volumeSource: { secret: { secretName: 'tls', defaultMode: 0o400 } } },
              { name: 'cfg', volumeSource: { configMap: { localObjectReference: { name: 'settings' }, items: [{ key: 'a', path: 'a.txt' }] } } },
              { name: 'scratch', volumeSource: { emptyDir: { sizeLimit: { string: '1Gi' } } } },
              { name: 'host', volumeSource: { hostPath: {} } },
            ],
            tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'hooks', effect: 'NoSchedule', tolerationSeconds: 0 }],
            securityContext: { fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
          },
        },
      },
    });
    assert.deepEqual(decodeKubernetesProtobuf(frame('batch/v1', 'Job', raw)), {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: {
        ...kept,
        template: {
          metadata: { labels: { app: 'j' } },
          spec: {
            volumes: [
              { name: 'certs', secret: { secretName: 'tls', defaultMode: 0o400 } },
              { name: 'cfg', configMap: { name: 'settings', items: [{ key: 'a', path: 'a.txt' }] } },
              { name: 'scratch', emptyDir: { sizeLimit: '1Gi' } },
              { name: 'host', hostPath: {} },
            ],
            containers: [{
              name: 'main',
              image: 'busybox',
              command: ['sh', '-c', 'echo hi'],
              envFrom: [{ configMapRef: { name: 'settings' } }],
              env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token', optional: false } } }],
              resources: { limits: { cpu: '500m', memory: '64Mi' } },
              volumeMounts: [{ name: 'certs', readOnly: true, mountPath: '/certs' }, { name: 'scratch', mountPath: '/tmp' }],
              securityContext: { capabilities: { drop: ['ALL'] }, runAsUser: 0, runAsNonRoot: true },
            }],
            restartPolicy: 'Never',
            securityContext: { fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
            tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'hooks', effect: 'NoSchedule', tolerationSeconds: 0 }],
          },
        },
      },
    });
  });

  test('accepts an envelope that names protobuf as its content type', () => {
    const raw = encodeRaw(OBJECT_TYPES.v1!.Namespace!, { metadata: { name: 'a' } });
    const decoded = decodeKubernetesProtobuf(frame('v1', 'Namespace', raw, { contentType: PROTOBUF_CONTENT_TYPE }));
    assert.deepEqual(decoded, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
  });

  const rejections: [string, () => Buffer, RegExp][] = [
    ['a body without the k8s\\0 prefix', () => Buffer.from('{"kind":"Secret"}'), /prefix/],
    ['a body shorter than the prefix', () => Buffer.from('k8'), /prefix/],
    ['a truncated envelope', () => encode(roundTrips[0]!).subarray(0, 20), /malformed runtime\.Unknown envelope/],
    ['a truncated object', () => frame('v1', 'Secret', encodeRaw(OBJECT_TYPES.v1!.Secret!, { metadata: { name: 'abcdef' } }).subarray(0, 5)), /malformed v1 Secret/],
    ['an unknown kind', () => frame('v1', 'Pod', new Uint8Array()), /cannot decode v1 Pod/],
    ['a kind of another group', () => frame('apps/v1', 'Deployment', new Uint8Array()), /cannot decode apps\/v1 Deployment/],
    ['an envelope with no type', () => Buffer.concat([MAGIC, UNKNOWN.encode(UNKNOWN.fromObject({ raw: new Uint8Array() })).finish()]), /names no apiVersion and kind/],
    ['a compressed payload', () => frame('v1', 'Secret', new Uint8Array(), { contentEncoding: 'gzip' }), /content encoding "gzip"/],
    ['a JSON payload in the envelope', () => frame('v1', 'Secret', Buffer.from('{}'), { contentType: 'application/json' }), /application\/json/],
  ];

  for (const [what, body, message] of rejections) {
    test(`rejects ${what} with a ProtobufError`, () => {
      assert.throws(() => decodeKubernetesProtobuf(body()), (err: unknown) => err instanceof ProtobufError && message.test(err.message));
    });
  }
});

describe('kubectl create against the sandbox', () => {
  let sandbox: TestSandbox;
  const issued = createAuthority().issue({ dnsNames: ['edge.example.com'] });

  before(async () => {
    sandbox = await testSandbox({ workloads: false });
  });

  after(async () => {
    await sandbox.close();
  });

  async function kubectl(args: string[]): Promise<string> {
    const result = await sandbox.kubectl(args);
    assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  const getJson = async (args: string[]) => JSON.parse(await kubectl(['get', ...args, '-o', 'json'])) as Json & { metadata: Json };
  const decoded = (value: unknown) => Buffer.from(String(value), 'base64');

  test('creates a namespace', async () => {
    assert.match(await kubectl(['create', 'namespace', 'x']), /namespace\/x created/);
    const ns = await getJson(['namespace', 'x']);
    assert.equal(ns.kind, 'Namespace');
    assert.equal(ns.metadata.name, 'x');
    assert.equal(typeof ns.metadata.uid, 'string');
  });

  test('creates a generic secret whose data decodes to the literal', async () => {
    assert.match(await kubectl(['create', 'secret', 'generic', 's', '--from-literal=a=b', '-n', 'x']), /secret\/s created/);
    const secret = await getJson(['secret', 's', '-n', 'x']);
    assert.equal(secret.type, 'Opaque');
    assert.equal(secret.metadata.namespace, 'x');
    assert.deepEqual(secret.data, { a: Buffer.from('b').toString('base64') });
  });

  test('creates a TLS secret holding the certificate and key', async () => {
    const certFile = join(sandbox.dir, 'tls.crt');
    const keyFile = join(sandbox.dir, 'tls.key');
    await writeFile(certFile, issued.fullchainPem);
    await writeFile(keyFile, issued.keyPem);
    assert.match(await kubectl(['create', 'secret', 'tls', 't', `--cert=${certFile}`, `--key=${keyFile}`, '-n', 'x']), /secret\/t created/);
    const secret = await getJson(['secret', 't', '-n', 'x']);
    const data = secret.data as Json;
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.equal(decoded(data['tls.crt']).toString(), issued.fullchainPem);
    assert.equal(decoded(data['tls.key']).toString(), issued.keyPem);
    assert.deepEqual(new X509Certificate(decoded(data['tls.crt'])).subjectAltName, 'DNS:edge.example.com');
  });

  test('creates a configmap with text and binary entries', async () => {
    const binFile = join(sandbox.dir, 'blob.bin');
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
    await writeFile(binFile, bytes);
    assert.match(await kubectl(['create', 'configmap', 'c', '--from-literal=mode=strict', `--from-file=blob.bin=${binFile}`, '-n', 'x']), /configmap\/c created/);
    const cm = await getJson(['configmap', 'c', '-n', 'x']);
    assert.deepEqual(cm.data, { mode: 'strict' });
    assert.deepEqual(cm.binaryData, { 'blob.bin': bytes.toString('base64') });
  });

  test('creates a service account', async () => {
    assert.match(await kubectl(['create', 'serviceaccount', 'hooks', '-n', 'x']), /serviceaccount\/hooks created/);
    const sa = await getJson(['serviceaccount', 'hooks', '-n', 'x']);
    assert.equal(sa.kind, 'ServiceAccount');
    assert.equal(sa.metadata.namespace, 'x');
  });

  test('answers 415 naming the accepted kinds for a protobuf body it cannot decode', async () => {
    const res = await fetch(`${sandbox.url}/api/v1/namespaces/x/pods`, {
      method: 'POST',
      headers: { 'Content-Type': PROTOBUF_CONTENT_TYPE },
      body: frame('v1', 'Pod', new Uint8Array()),
    });
    assert.equal(res.status, 415);
    const status = (await res.json()) as { reason: string; message: string };
    assert.equal(status.reason, 'UnsupportedMediaType');
    assert.match(status.message, /cannot decode v1 Pod/);
    assert.match(status.message, /v1 Namespace, v1 Secret, v1 ConfigMap, v1 ServiceAccount, batch\/v1 Job/);
    assert.match(status.message, /kubectl apply -f/);
  });
});
