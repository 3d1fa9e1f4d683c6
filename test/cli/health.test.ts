// The operator's health endpoints: /healthz fails once a cache's watch loop has died, so the
// kubelet's liveness probe restarts a replica that would otherwise act on a frozen cache.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import pino from 'pino';
import { serveHealth } from '../../src/cli/operator.ts';
import { Reflector } from '../../src/kube/reflector.ts';
import { KubeClient } from '../../src/kube/client.ts';
import { credentialsFromKubeconfig } from '../../src/kube/kubeconfig.ts';
import { kubeconfigFor } from '../../src/sandbox/kubeconfig.ts';
import type { Operator } from '../../src/controller/operator.ts';
import { eventually } from '../support/eventually.ts';

const quiet = pino({ level: 'silent' });

describe('health endpoints', () => {
  test('/healthz answers 500 once the operator reports a dead cache; /readyz follows readiness', async () => {
    let healthy = true;
    const operator = { ready: () => true, healthy: () => healthy } as unknown as Operator;
    const server = await serveHealth(0, () => operator, quiet);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      healthy = false;
      const res = await fetch(`${base}/healthz`);
      assert.equal(res.status, 500);
      assert.match(await res.text(), /cache stopped watching/);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
    } finally {
      server.close();
    }
  });

  test('a reflector whose loop ends without being stopped reports itself dead', async () => {
    const api = createServer((_req, res) => res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"kind":"Status","code":500,"reason":"InternalError","message":"boom"}'));
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const client = KubeClient.create(await credentialsFromKubeconfig(kubeconfigFor(`http://127.0.0.1:${(api.address() as AddressInfo).port}`)));
    // A logger that throws where the loop reports its restart: the loop itself ends.
    const log = Object.assign(pino({ level: 'silent' }), { warn: () => { throw new Error('log sink broken'); } });
    const reflector = new Reflector({ client, log, path: '/api/v1/secrets', transform: (o) => o, onChange: () => {} });
    try {
      assert.equal(reflector.alive, true);
      reflector.start();
      await eventually(() => assert.equal(reflector.alive, false));
    } finally {
      await reflector.stop();
      await client.close();
      api.close();
    }
  });
});
