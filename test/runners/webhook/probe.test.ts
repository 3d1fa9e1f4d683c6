import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookDispatcher } from '../../../src/runners/webhook/guarded-dispatcher.ts';
import { probeUrl } from '../../../src/runners/webhook/probe.ts';

const dispatcher = webhookDispatcher({ allow: [] });
const seen: string[] = [];
/** /<options status>/<head status>: answers OPTIONS and HEAD with those. */
const server = createServer((req, res) => {
  seen.push(`${req.method} ${req.url}`);
  const [, options, head] = req.url!.split('/');
  res.writeHead(Number(req.method === 'OPTIONS' ? options : head)).end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(async () => {
  await dispatcher.close();
  server.close();
});

test('OPTIONS first; HEAD when the endpoint does not do OPTIONS; any answer but 410 and 5xx is reachable', async () => {
  seen.length = 0;
  assert.deepEqual(await probeUrl(`${base}/204/500`, dispatcher, 5000), { type: 'Reachable', status: 'True', reason: 'Answered', message: 'the url answered HTTP 204' });
  assert.deepEqual(await probeUrl(`${base}/405/200`, dispatcher, 5000), { type: 'Reachable', status: 'True', reason: 'Answered', message: 'the url answered HTTP 200' });
  assert.deepEqual(seen, ['OPTIONS /204/500', 'OPTIONS /405/200', 'HEAD /405/200']);
  assert.equal((await probeUrl(`${base}/404/404`, dispatcher, 5000)).status, 'True', 'a server that routes only POST still proves the address');
  assert.deepEqual(await probeUrl(`${base}/410/410`, dispatcher, 5000), { type: 'Reachable', status: 'False', reason: 'Gone', message: 'the url answered HTTP 410 Gone: the endpoint has been removed' });
  assert.equal((await probeUrl(`${base}/501/503`, dispatcher, 5000)).reason, 'HTTPStatus');
});

test('nothing listening, or an address the policy refuses, is unreachable with the reason', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = await probeUrl(`http://127.0.0.1:${port}/`, dispatcher, 5000);
  assert.equal(refused.status, 'False');
  assert.equal(refused.reason, 'ConnectionFailed');
  assert.match(refused.message, /ECONNREFUSED/);
  // A loopback address under a name that is not a loopback name: refused before any connection.
  const guarded = webhookDispatcher({ allow: [], lookup: async () => [{ address: '127.0.0.1', family: 4 }] });
  const blocked = await probeUrl(`${base.replace('127.0.0.1', 'rebind.test')}/204/204`, guarded, 5000);
  await guarded.close();
  assert.equal(blocked.reason, 'NetworkPolicy');
  assert.match(blocked.message, /^network policy blocked: rebind\.test resolved to 127\.0\.0\.1 \(loopback 127\.0\.0\.0\/8\)$/);
});
