// The memory baseline: a plain @kubernetes/client-node informer over Secrets that keeps every
// object whole, as a controller written the obvious way does. It prints `synced N` once its
// cache holds at least the expected number of Secrets, then waits to be killed (the bench reads
// its RSS from /proc meanwhile).
//
//   node bench/scale/naive-informer.ts KUBECONFIG EXPECTED
import { CoreV1Api, KubeConfig, makeInformer, type V1Secret } from '@kubernetes/client-node';

const [kubeconfig, expectedArg] = process.argv.slice(2);
const expected = Number(expectedArg);
if (!kubeconfig || !Number.isInteger(expected) || expected < 0) throw new Error('usage: naive-informer.ts KUBECONFIG EXPECTED');

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
// client-node's informer takes no field selector for its watch: the list asks for TLS Secrets,
// and the watch sees every Secret (the bench has no others while this runs).
const informer = makeInformer<V1Secret>(kc, '/api/v1/secrets', () => core.listSecretForAllNamespaces({ fieldSelector: 'type=kubernetes.io/tls' }));
informer.on('error', (err: unknown) => {
  console.error('informer error', err);
  process.exit(2);
});

let reported = false;
const check = () => {
  const size = informer.list().length;
  if (!reported && size >= expected) {
    reported = true;
    console.log(`synced ${size}`);
  }
};
informer.on('add', check);
await informer.start();
check();
setInterval(check, 50);
process.on('SIGTERM', () => process.exit(0));
