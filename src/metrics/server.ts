// The metrics endpoint: GET /metrics on its own port, apart from the health probes, so a
// NetworkPolicy or a ServiceMonitor can treat the two separately.
import { createServer, type Server } from '../http-server.ts';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export const DEFAULT_METRICS_PORT = 8080;

export function serveMetrics(port: number, registry: Registry, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (err: Error) => {
        log.error({ err: err.message }, 'collecting metrics failed');
        res.writeHead(500).end('collecting metrics failed');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      log.info({ port: (server.address() as AddressInfo).port }, 'metrics endpoint listening');
      resolve(server);
    });
  });
}
