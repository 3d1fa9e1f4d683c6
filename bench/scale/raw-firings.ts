// The burst's baseline: raw-firer.ts, a process of its own, sending each firing's writes to the
// sandbox, in a namespace of its own, before any operator runs; the namespace is deleted after.
import type { BenchCluster } from './cluster.ts';
import { script, timeToExit } from './processes.ts';

export const RAW_FIRINGS_NAMESPACE = 'bench-raw-firings';
/** The writes of one firing, as raw-firer.ts sends them and the operator's burst counts them. */
export const WRITES_PER_RAW_FIRING = 4;

export interface RawFirings {
  /** Firings' writes a second, `inFlight` firings at a time. */
  perSecond: number;
  ms: number;
}

export async function rawFirings(cluster: BenchCluster, count: number, inFlight: number): Promise<RawFirings> {
  const api = cluster.sandbox.api;
  const namespaces = api.type('', 'namespaces');
  api.create(namespaces, undefined, { metadata: { name: RAW_FIRINGS_NAMESPACE } });
  try {
    const { output } = await timeToExit('raw firer', [script('raw-firer.ts'), cluster.sandbox.url, RAW_FIRINGS_NAMESPACE, String(count), String(inFlight)], 60_000 + count * 100);
    return JSON.parse(output.find((l) => l.startsWith('{')) ?? '{}') as RawFirings;
  } finally {
    api.delete(namespaces, undefined, RAW_FIRINGS_NAMESPACE);
  }
}
