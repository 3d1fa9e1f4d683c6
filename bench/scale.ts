// certhook at scale: the operator, as its own process, against the in-process sandbox with
// thousands of TLS Secrets. Every figure stands beside a baseline measured in the same run:
//
//   cold start       spawn → /readyz            vs  a raw paged list of the same collections
//   restart          the same, every run in place; and how many runs it plans then (0)
//   reaction         renewal written → its run  vs  the write's watch delivery + one raw create of
//                                                  the same DeployHookRun (dry run: nothing stored)
//   burst            firings/s, writes/firing   vs  a raw process sending each firing's writes (its
//                                                  run, snapshot, Job and status: the same objects)
//   memory           RSS growth per Secret      vs  a client-node informer keeping whole Secrets
//   stalls           longest /healthz wait during activation and the burst
//   webhook fan-out  deliveries/s to a loopback receiver  vs  a raw undici loop, same concurrency
//
//   npm run bench -- [--secrets 10000] [--namespaces 10] [--hooks-per-namespace 1]
//                    [--out bench/RESULTS.md] [--operator-args "--kube-api-qps 100000 ..."]
//                    [--samples 50] [--raw-writes 5000] [--raw-firings 2000] [--cold-starts 3]
//                    [--fanout 1000] [--fanout-delay-ms 100]
//
// Exits 0 whether or not targets are met (missed ones print MISSED); non-zero only when the
// harness itself broke. Traffic stays on 127.0.0.1; only the processes it started are ended.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { CertificatePool, createHooks, createSecrets, startCluster, type BenchCluster } from './scale/cluster.ts';
import { RawClient } from './scale/http.ts';
import { coldStarts, massRenewal, naiveFootprint, operatorEmptyFootprint, rawListMs, reactionLatency, restart, type Bench } from './scale/phases.ts';
import { acceptedOperatorArgs, imageOperator, ROOT, rssBytes, stopAllChildren, type RunningOperator } from './scale/processes.ts';
import { webhookFanOut } from './scale/fanout.ts';
import { rawFirings, WRITES_PER_RAW_FIRING } from './scale/raw-firings.ts';
import { DEFAULT_WEBHOOK_CONCURRENCY } from '../src/runners/webhook/webhook-runner.ts';
import { bytes, median, mib, ms, num, quantile, ratio, table, writeResults, type Row } from './scale/report.ts';

const { values } = parseArgs({
  options: {
    secrets: { type: 'string', default: '10000' },
    namespaces: { type: 'string', default: '10' },
    'hooks-per-namespace': { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
    'operator-args': { type: 'string', default: '--kube-api-qps 100000 --kube-api-burst 100000' },
    samples: { type: 'string', default: '50' },
    'raw-writes': { type: 'string', default: '5000' },
    'raw-firings': { type: 'string', default: '2000' },
    'cold-starts': { type: 'string', default: '3' },
    fanout: { type: 'string', default: '1000' },
    'fanout-delay-ms': { type: 'string', default: '100' },
  },
});

function positive(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${values[name]})`);
  return n;
}

const layout = { secrets: positive('secrets'), namespaces: positive('namespaces'), hooksPerNamespace: positive('hooks-per-namespace') };
const samples = positive('samples');
const rawWrites = positive('raw-writes');
const rawFiringCount = positive('raw-firings');
const coldStartCount = positive('cold-starts');
const fanOut = { deliveries: positive('fanout'), hooks: 10, concurrency: DEFAULT_WEBHOOK_CONCURRENCY, receiverDelayMs: positive('fanout-delay-ms') };
/** Requests in flight in the raw ConfigMap loop. */
const RAW_IN_FLIGHT = 4;
/** Firings in flight in the raw firer: as many as the operator has run workers (its busiest controller). */
const RAW_FIRINGS_IN_FLIGHT = 16;
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
const startedAt = new Date();
const t0 = performance.now();
const log = (line: string) => console.error(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
/** How long each phase took, for the notes. */
const phases: string[] = [];
async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  log(`${name}…`);
  const started = performance.now();
  const result = await run();
  phases.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

const notes: string[] = [];
notes.push(`code measured: ${codeState()}`);

/** Which code ran: the commit, and whether src/ had uncommitted changes. */
function codeState(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return `commit ${git('rev-parse', '--short', 'HEAD')}${changed ? ` with ${changed} uncommitted change(s) under src/` : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
const { accepted, dropped } = await acceptedOperatorArgs((values['operator-args'] ?? '').split(/\s+/).filter(Boolean));
if (dropped.length) {
  const note = `this operator CLI does not accept ${dropped.join(' ')}; the operator ran without them`;
  notes.push(note);
  log(`warning: ${note}`);
}

// The operator runs as the image runs it: compiled, with the image's NODE_OPTIONS.
const image = await imageOperator();
notes.push(`operator: the CLI compiled by this run (as the image runs it), with the Dockerfile's environment: ${Object.entries(image.env).map(([k, v]) => `${k}="${v}"`).join(' ')}`);

let cluster: BenchCluster | undefined;
let raw: RawClient | undefined;
let operator: RunningOperator | undefined;
try {
  cluster = await startCluster(layout, 400_000 + 10 * layout.secrets * layout.hooksPerNamespace);
  raw = new RawClient(cluster.sandbox.url);
  const pool = await phase('issue certificates', async () => new CertificatePool(48));
  const b: Bench = {
    cluster,
    pool,
    raw,
    settings: { kubeconfigPath: cluster.kubeconfigPath, extraArgs: accepted, ...image },
    firings: layout.secrets * layout.hooksPerNamespace,
    log,
  };

  const empty = await phase('footprints on an empty cluster', async () => {
    const operator = await operatorEmptyFootprint(b);
    return { operator: operator.rss, operatorReadyMs: operator.readyMs, rawListMs: await rawListMs(b, 0), naive: await naiveFootprint(b, 0) };
  });
  await phase(`create ${layout.secrets} TLS Secrets and the hooks`, async () => {
    await createSecrets(cluster!, pool);
    await createHooks(cluster!);
  });
  // Before any operator runs: its namespace is gone again when the first one lists.
  const rawFire = await phase(`raw firings (${rawFiringCount} firings' writes, ${RAW_FIRINGS_IN_FLIGHT} in flight)`, () => rawFirings(cluster!, rawFiringCount, RAW_FIRINGS_IN_FLIGHT));
  const cold = await phase('cold starts', () => coldStarts(b, coldStartCount));
  operator = cold.op;
  const full = await phase('footprints with the Secrets', async () => {
    const op = await rssBytes(cold.op.child.pid);
    return { operator: op, naive: await naiveFootprint(b, layout.secrets) };
  });
  const latency = await phase(`reaction latency (${samples} renewals, one at a time)`, () => reactionLatency(b, samples));
  const rate = await phase(`raw write rate (${rawWrites} ConfigMaps, ${RAW_IN_FLIGHT} in flight)`, () => raw!.writeRate('bench-raw', rawWrites, RAW_IN_FLIGHT));
  const burst = await phase(`burst (${layout.secrets} renewals)`, () => massRenewal(b, cold.op));
  const again = await phase('restart with every run in place', () => restart(b, cold.op, 5000));
  operator = again.op;
  const fan = await phase(`webhook fan-out (${fanOut.deliveries} deliveries)`, () => webhookFanOut(b, again.op, fanOut));

  // ---- the table ----
  const coldOp = median(cold.operatorMs);
  const coldRaw = median(cold.rawMs);
  const reaction = median(latency.reactionMs);
  const delivery = median(latency.deliveryMs);
  const create = median(latency.createMs);
  const reactionBase = Math.max(0, delivery) + create;
  const reaction95 = quantile(latency.reactionMs, 0.95);
  const reactionBase95 = Math.max(0, quantile(latency.deliveryMs, 0.95)) + quantile(latency.createMs, 0.95);
  const firingsDone = burst.jobs;
  const firingsPerSecond = (firingsDone / burst.doneMs) * 1000;
  // A hook's status is written once for a burst of its runs (every 10 s at most while it lasts),
  // not per firing: counted apart.
  const hookStatusWrites = burst.writesByKey['patch deployhooks/status'] ?? 0;
  const writesPerFiring = (burst.operatorWrites - hookStatusWrites) / firingsDone;
  // What the API takes of firings' writes from a plain client: the most a burst could reach.
  const reachable = rawFire.perSecond;
  const growthOp = (full.operator - empty.operator) / layout.secrets;
  const growthNaive = (full.naive - empty.naive) / layout.secrets;
  const MiB200 = 200 * 2 ** 20;
  const deliveriesPerSecond = (fan.deliveries / fan.operatorMs) * 1000;
  const rawPostsPerSecond = (fan.deliveries / fan.rawMs) * 1000;
  const rows: Row[] = [
    { what: `cold start, ${layout.secrets} Secrets (spawn → ready; median of ${cold.operatorMs.length})`, certhook: ms(coldOp), baseline: `${ms(coldRaw)} raw paged list`, ratio: ratio(coldOp, coldRaw), target: '≤ 1.3', met: coldOp / coldRaw <= 1.3 },
    { what: `restart, ${again.runsInPlace} runs in place (spawn → ready)`, certhook: ms(again.readyMs), baseline: `${ms(again.rawMs)} raw paged list`, ratio: ratio(again.readyMs, again.rawMs), target: '≤ 1.3 (as cold start)', met: again.readyMs / again.rawMs <= 1.3 },
    { what: 'runs planned by the restart (5 s after ready)', certhook: String(again.runsCreated), baseline: '', ratio: '', target: '0', met: again.runsCreated === 0 },
    { what: `reaction, renewal → run (median of ${latency.reactionMs.length})`, certhook: ms(reaction), baseline: `${ms(reactionBase)} = delivery ${ms(delivery)} + run create ${ms(create)}`, ratio: ratio(reaction, reactionBase), target: '≤ 1.5', met: reaction / reactionBase <= 1.5 },
    { what: 'reaction, renewal → run (p95)', certhook: ms(reaction95), baseline: `${ms(reactionBase95)} (p95s summed)`, ratio: ratio(reaction95, reactionBase95), target: '', met: undefined },
    { what: `burst, ${firingsDone}/${b.firings} firings to their Jobs`, certhook: `${num(firingsPerSecond)} firings/s (${ms(burst.doneMs)})`, baseline: `${num(reachable)} = ${num(reachable * WRITES_PER_RAW_FIRING, 0)} raw writes/s ÷ ${WRITES_PER_RAW_FIRING}`, ratio: ratio(firingsPerSecond, reachable), target: '≥ 0.8', met: burst.complete && firingsPerSecond / reachable >= 0.8 },
    { what: 'API writes per firing (burst)', certhook: num(writesPerFiring, 3), baseline: '', ratio: '', target: '≤ 4', met: writesPerFiring <= 4 },
    { what: `hooks' status writes during the burst (${layout.namespaces * layout.hooksPerNamespace} hooks)`, certhook: String(hookStatusWrites), baseline: '', ratio: '', target: '', met: undefined },
    { what: 'memory growth per Secret (RSS)', certhook: bytes(growthOp), baseline: `${bytes(growthNaive)} client-node informer`, ratio: ratio(growthOp, growthNaive), target: '≤ 0.5', met: growthOp / growthNaive <= 0.5 },
    { what: 'operator RSS, peak during the burst', certhook: mib(burst.peakRss), baseline: '', ratio: '', target: '< 200 MiB', met: burst.peakRss < MiB200 },
    { what: 'operator RSS, burst settled', certhook: mib(burst.settledRss), baseline: '', ratio: '', target: '< 200 MiB', met: burst.settledRss < MiB200 },
    { what: 'longest /healthz wait, cold-start activation', certhook: ms(cold.probe.maxMs), baseline: `${ms(cold.probe.medianMs)} median answer`, ratio: ratio(cold.probe.maxMs, cold.probe.medianMs), target: '< 200 ms', met: cold.probe.maxMs < 200 },
    { what: 'longest /healthz wait, restart activation', certhook: ms(again.probe.maxMs), baseline: `${ms(again.probe.medianMs)} median answer`, ratio: ratio(again.probe.maxMs, again.probe.medianMs), target: '< 200 ms', met: again.probe.maxMs < 200 },
    { what: `webhook fan-out, ${fan.deliveries} deliveries (receiver answers in ${fanOut.receiverDelayMs} ms)`, certhook: `${num(deliveriesPerSecond)} deliveries/s (${ms(fan.operatorMs)})`, baseline: `${num(rawPostsPerSecond)} raw POSTs/s, ${fanOut.concurrency} in flight`, ratio: ratio(deliveriesPerSecond, rawPostsPerSecond), target: '≥ 0.8', met: deliveriesPerSecond / rawPostsPerSecond >= 0.8 },
    { what: 'longest /healthz wait, burst', certhook: ms(burst.probe.maxMs), baseline: `${ms(burst.probe.medianMs)} median answer`, ratio: ratio(burst.probe.maxMs, burst.probe.medianMs), target: '< 200 ms', met: burst.probe.maxMs < 200 },
  ];
  const topWrites = Object.entries(burst.writesByKey).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${num(n / firingsDone, 2)}`).join(', ');
  notes.push(
    `layout: ${layout.secrets} TLS Secrets over ${layout.namespaces} namespaces, ${layout.hooksPerNamespace} catch-all DeployHook(s) per namespace; operator flags: --quiet-period 0 --log-level warn ${accepted.join(' ')}`.trim(),
    `start-up on an empty cluster (the fixed part of a cold start): operator ${ms(empty.operatorReadyMs)} to ready, raw lister ${ms(empty.rawListMs)} to exit`,
    `burst: renewals written in-process in ${ms(burst.writtenMs)}, every Job there after ${ms(burst.doneMs)}; writes settled: ${burst.settled ? 'yes' : 'NO (120 s bound)'}; requests per firing (reads too): ${num(burst.operatorRequests / firingsDone, 2)}`,
    `burst CPU, start until the writes settled: operator ${num(burst.operatorCpuS)} s (${ms((burst.operatorCpuS / firingsDone) * 1000)} a firing), bench process with the API server ${num(burst.benchCpuS)} s (${ms((burst.benchCpuS / firingsDone) * 1000)} a firing), on ${cpus().length} cores`,
    `writes per firing by verb and resource: ${topWrites}`,
    `raw firings: ${rawFiringCount} firings' writes (create run, create snapshot, create Job, patch the run's status: the operator's objects, built by its own code) in ${ms(rawFire.ms)}, ${RAW_FIRINGS_IN_FLIGHT} firings in flight, by a plain undici client in a process of its own (bench/scale/raw-firer.ts), before any operator ran`,
    `raw ConfigMap creates (the API's bare create rate, for scale): ${num(rate.perSecond, 0)}/s (${rawWrites} in ${ms(rate.ms)}): ${num(rate.perSecond / (reachable * WRITES_PER_RAW_FIRING), 1)}× a firing's writes, which carry schemas, CEL rules, a pod template and their managedFields`,
    `reaction latency samples (ms): ${latency.reactionMs.map((v) => v.toFixed(1)).join(' ')}`,
    `memory: operator ${mib(empty.operator)} → ${mib(full.operator)}, naive informer ${mib(empty.naive)} → ${mib(full.naive)} (RSS ${2} s after each was ready)`,
    `/healthz probes: cold start ${cold.probe.samples} answers (${cold.probe.failures} failed), burst ${burst.probe.samples} (${burst.probe.failures} failed), restart ${again.probe.samples} (${again.probe.failures} failed); p99 burst ${ms(burst.probe.p99Ms)}`,
    `webhook fan-out: ${fanOut.hooks} hooks × ${fan.deliveries / fanOut.hooks} TLS Secrets created at once, timed from the first Secret written to the last delivery received (each delivery: a run, its snapshot, two status writes, a snapshot read, the POST); bodies ${fan.bodyBytes} B; in flight at most ${fan.operatorMaxInFlight} (operator, --webhook-concurrency ${fanOut.concurrency}) and ${fan.rawMaxInFlight} (raw loop); resent ids ${fan.resent}`,
    `time by phase: ${phases.join('; ')}`,
  );

  console.log(`\n${table(rows)}\n`);
  const missed = rows.filter((r) => r.met === false);
  console.log(missed.length ? `MISSED: ${missed.map((r) => r.what).join('; ')}` : 'every target met');
  for (const n of notes) console.log(`- ${n}`);
  await writeResults(values.out!, { command, rows, notes, started: startedAt });
  log(`wrote ${values.out}`);
} catch (err) {
  console.error('bench harness failed:', err);
  process.exitCode = 1;
} finally {
  await operator?.child.stop('SIGTERM', 10_000);
  await stopAllChildren();
  await raw?.close();
  await cluster?.close();
}
