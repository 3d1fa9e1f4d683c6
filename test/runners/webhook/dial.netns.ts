// Dials each case (a JSON array in argv[2]: a URL and what its name resolves to) through
// webhookDispatcher and prints how each ended, as JSON. guarded-dispatcher.test.ts runs it in a
// network namespace with only loopback, so a guard that lets a request through sends nothing off
// this machine; it refuses to run anywhere else.
import { networkInterfaces } from 'node:os';
import { request } from 'undici';
import { webhookDispatcher } from '../../../src/runners/webhook/guarded-dispatcher.ts';

export interface DialCase {
  url: string;
  resolves?: { address: string; family: 4 | 6 }[];
}

export interface DialResult {
  url: string;
  status?: number;
  code?: string;
  message?: string;
}

const interfaces = Object.keys(networkInterfaces());
if (interfaces.some((name) => name !== 'lo')) {
  console.error(`network interfaces ${interfaces.join(', ')}: run me in a network namespace with only lo (unshare --net)`);
  process.exit(2);
}

const cases = JSON.parse(process.argv[2]!) as DialCase[];
const names = new Map(cases.map((c) => [new URL(c.url).hostname, c.resolves ?? []]));
const dispatcher = webhookDispatcher({ allow: [], connectTimeoutMs: 2000, lookup: async (hostname) => names.get(hostname) ?? [] });
const results: DialResult[] = [];
for (const { url } of cases) {
  try {
    const { statusCode, body } = await request(url, { method: 'POST', body: '{}', dispatcher, signal: AbortSignal.timeout(5000) });
    await body.dump();
    results.push({ url, status: statusCode });
  } catch (error) {
    results.push({ url, code: (error as NodeJS.ErrnoException).code, message: (error as Error).message });
  }
}
await dispatcher.destroy();
process.stdout.write(JSON.stringify(results));
