// The cold-start baseline: a bare process that lists, as the operator's caches do (pages of 500,
// every collection at once), the TLS Secrets, DeployHooks, DeployHookRuns, Jobs, ClusterDeployHooks
// and Namespaces, parses every page, and exits. What the operator adds on top is its own start-up and cache building.
//
//   node bench/scale/raw-lister.ts http://127.0.0.1:PORT
import { Agent, request } from 'undici';

const server = process.argv[2];
if (!server?.startsWith('http://127.0.0.1:')) throw new Error('usage: raw-lister.ts http://127.0.0.1:PORT');

const COLLECTIONS = [
  '/api/v1/secrets?fieldSelector=' + encodeURIComponent('type=kubernetes.io/tls'),
  '/apis/certhook.io/v1alpha1/deployhooks',
  '/apis/certhook.io/v1alpha1/deployhookruns',
  '/apis/batch/v1/jobs',
  '/apis/certhook.io/v1alpha1/clusterdeployhooks',
  '/api/v1/namespaces',
];

const agent = new Agent({ connections: COLLECTIONS.length });

interface Page {
  metadata: { continue?: string };
  items: unknown[];
}

async function listAll(path: string): Promise<number> {
  let count = 0;
  let cont: string | undefined;
  do {
    const url = `${server}${path}${path.includes('?') ? '&' : '?'}limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
    const res = await request(url, { dispatcher: agent, headers: { accept: 'application/json' } });
    if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}: ${await res.body.text()}`);
    const page = (await res.body.json()) as Page;
    count += page.items.length;
    cont = page.metadata.continue || undefined;
  } while (cont);
  return count;
}

const counts = await Promise.all(COLLECTIONS.map(listAll));
await agent.close();
console.log(JSON.stringify({ secrets: counts[0], hooks: counts[1], runs: counts[2], jobs: counts[3] }));
