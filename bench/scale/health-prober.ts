// Polls the operator's /healthz every INTERVAL ms (the next poll starts INTERVAL after the last
// one started, or at once when it took longer) and, on SIGTERM, prints the longest answer it
// waited for: a proxy for the operator's longest event-loop stall. A separate process, so the
// bench's own busy event loop (it hosts the API server) does not add to the figure. Connection
// errors before the first answer are the health server not listening yet, and are not counted.
//
//   node bench/scale/health-prober.ts PORT [INTERVAL_MS] [TIMEOUT_MS]
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, request } from 'undici';

const port = Number(process.argv[2]);
const intervalMs = Number(process.argv[3] ?? 20);
const timeoutMs = Number(process.argv[4] ?? 5000);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: health-prober.ts PORT [INTERVAL_MS] [TIMEOUT_MS]');

const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
const url = `http://127.0.0.1:${port}/healthz`;
const latencies: number[] = [];
let failures = 0;
let answered = false;
let stopping = false;

process.on('SIGTERM', () => {
  stopping = true;
});

while (!stopping) {
  const started = performance.now();
  try {
    const res = await request(url, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    answered = true;
    latencies.push(performance.now() - started);
  } catch {
    // Before the first answer, the server is not up yet; after it, a timeout or error is a stall.
    if (answered) {
      failures++;
      latencies.push(performance.now() - started);
    }
  }
  const wait = intervalMs - (performance.now() - started);
  if (wait > 0) await delay(wait);
}

latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
console.log(JSON.stringify({ samples: latencies.length, failures, maxMs: latencies.at(-1) ?? 0, p99Ms: at(0.99), medianMs: at(0.5) }));
await agent.close();
