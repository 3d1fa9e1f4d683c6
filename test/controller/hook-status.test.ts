import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployHook } from '../../src/api/deployhook.ts';
import type { DeployHookRun, DeployHookRunStatus } from '../../src/api/deployhookrun.ts';
import type { Condition } from '../../src/api/metav1.ts';
import { HISTORY_LENGTH, hookStatus, runSummary } from '../../src/controller/hook-status.ts';
import { certificate, hook, run, secret } from './objects.ts';

const NOW = '2025-06-10T12:00:00Z';
const EARLIER = '2025-06-01T08:00:00Z';
const VALID = { problems: [] };
const FIRES = 'the hook is valid and fires on its events';

const owner = hook();
const tls = secret('edge-tls', certificate(['api.example.com', 'www.example.com']));

/** A run of edge-tls planned at second `s` of the day. */
const runAt = (s: number, status?: DeployHookRunStatus) =>
  run(owner, 'renewed', { ...tls, certificate: certificate([`v${s}.example.com`]) }, new Date(Date.parse('2025-06-02T00:00:00Z') + s * 1000).toISOString(), status);

const withReady = (h: DeployHook, ready: Condition): DeployHook => ({ ...h, status: { conditions: [ready] } });

describe('hookStatus: the Ready condition', () => {
  test('a valid hook is Ready=True, Valid', () => {
    assert.deepEqual(hookStatus(hook({}, { generation: 4 }), [], VALID, NOW).conditions, [
      { type: 'Ready', status: 'True', reason: 'Valid', message: FIRES, observedGeneration: 4, lastTransitionTime: NOW },
    ]);
  });

  test('a valid disabled hook says only manual runs execute', () => {
    const [ready] = hookStatus(hook({ enabled: false }), [], VALID, NOW).conditions!;
    assert.equal(ready!.status, 'True');
    assert.equal(ready!.message, 'the hook is valid and disabled: only manual runs execute');
  });

  test('an invalid hook is Ready=False, Invalid, with every problem in the message', () => {
    const problems = ['spec.timeoutSeconds: should be less than or equal to 300', 'spec.job.command: Required value'];
    const [ready] = hookStatus(owner, [], { problems }, NOW).conditions!;
    assert.deepEqual(
      { status: ready!.status, reason: ready!.reason, message: ready!.message },
      { status: 'False', reason: 'Invalid', message: 'spec.timeoutSeconds: should be less than or equal to 300; spec.job.command: Required value' },
    );
  });

  const transitions: [string, DeployHook, { problems: string[] }, string][] = [
    ['unchanged: the earlier transition time stays', withReady(owner, { type: 'Ready', status: 'True', reason: 'Valid', message: FIRES, lastTransitionTime: EARLIER }), VALID, EARLIER],
    ['status changed: it moves', withReady(owner, { type: 'Ready', status: 'False', reason: 'Invalid', message: FIRES, lastTransitionTime: EARLIER }), VALID, NOW],
    ['reason changed: it moves', withReady(owner, { type: 'Ready', status: 'True', reason: 'Other', message: FIRES, lastTransitionTime: EARLIER }), VALID, NOW],
    ['message changed: it moves', withReady(owner, { type: 'Ready', status: 'False', reason: 'Invalid', message: 'a: bad', lastTransitionTime: EARLIER }), { problems: ['b: bad'] }, NOW],
    ['no earlier condition: now', owner, VALID, NOW],
  ];
  for (const [what, h, validity, expected] of transitions) {
    test(`lastTransitionTime, ${what}`, () => {
      assert.equal(hookStatus(h, [], validity, NOW).conditions![0]!.lastTransitionTime, expected);
    });
  }

  test('observedGeneration is the hook generation, on the status and the condition', () => {
    const status = hookStatus(hook({}, { generation: 7 }), [], VALID, NOW);
    assert.equal(status.observedGeneration, 7);
    assert.equal(status.conditions![0]!.observedGeneration, 7);
  });
});

describe('hookStatus: runs', () => {
  test('no runs: no lastRun, empty history, zero totals', () => {
    const status = hookStatus(owner, [], VALID, NOW);
    assert.equal('lastRun' in status, false);
    assert.deepEqual(status.history, []);
    assert.deepEqual(status.totals, { succeeded: 0, failed: 0, skipped: 0 });
  });

  test('totals count the final phases', () => {
    const runs = [
      runAt(1, { phase: 'Succeeded' }),
      runAt(2, { phase: 'Succeeded' }),
      runAt(3, { phase: 'Failed' }),
      runAt(4, { phase: 'Skipped' }),
      runAt(5, { phase: 'Running' }),
      runAt(6),
    ];
    assert.deepEqual(hookStatus(owner, runs, VALID, NOW).totals, { succeeded: 2, failed: 1, skipped: 1 });
  });

  test('history is newest first by when each run was planned, and lastRun is the newest', () => {
    const runs = [runAt(20), runAt(3), runAt(11)];
    const status = hookStatus(owner, runs, VALID, NOW);
    assert.deepEqual(status.history!.map((s) => s.name), [runs[0]!, runs[2]!, runs[1]!].map((r) => r.metadata.name));
    assert.deepEqual(status.lastRun, runSummary(runs[0]!));
  });

  test(`history holds the newest ${HISTORY_LENGTH}; totals count every run`, () => {
    const runs = Array.from({ length: 25 }, (_, i) => runAt(i, { phase: 'Succeeded' }));
    const status = hookStatus(owner, runs.toReversed(), VALID, NOW);
    assert.equal(HISTORY_LENGTH, 20);
    assert.deepEqual(status.history!.map((s) => s.name), runs.slice(5).reverse().map((r) => r.metadata.name));
    assert.equal(status.totals!.succeeded, 25);
  });
});

describe('runSummary', () => {
  test('a finished run: phase, reason, exit code, times and the domain it acted on', () => {
    const r: DeployHookRun = runAt(1, {
      phase: 'Failed',
      reason: 'ExitCode',
      exitCode: 3,
      startTime: '2025-06-02T00:00:02Z',
      completionTime: '2025-06-02T00:00:05Z',
      certificate: { fingerprint: 'c'.repeat(64), domain: 'status.example.com' },
      output: 'not in the summary',
    });
    assert.deepEqual(runSummary(r), {
      name: r.metadata.name,
      event: 'renewed',
      phase: 'Failed',
      reason: 'ExitCode',
      exitCode: 3,
      secretName: 'edge-tls',
      domain: 'status.example.com',
      startTime: '2025-06-02T00:00:02Z',
      completionTime: '2025-06-02T00:00:05Z',
    });
  });

  test('exit code 0 is kept', () => {
    assert.equal(runSummary(runAt(1, { phase: 'Succeeded', exitCode: 0 })).exitCode, 0);
  });

  test('a run without status is Pending, with the domain of its spec', () => {
    const r = runAt(1);
    assert.deepEqual(runSummary(r), { name: r.metadata.name, event: 'renewed', phase: 'Pending', secretName: 'edge-tls', domain: 'v1.example.com' });
  });

  test('a manual run without a certificate has no domain', () => {
    const r = run(owner, 'manual', tls, '2025-06-02T00:00:00.000Z');
    const { certificate: _, ...spec } = r.spec;
    assert.deepEqual(runSummary({ ...r, spec }), { name: r.metadata.name, event: 'manual', phase: 'Pending', secretName: 'edge-tls' });
  });
});

describe('hookStatus: what kubectl get prints', () => {
  test('events, domains and the selector as people write them', () => {
    const status = hookStatus(hook({
      onEvents: ['created', 'renewed'],
      domains: ['api.example.com', '*.example.com'],
      secretSelector: { matchLabels: { tier: 'edge', app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] },
    }), [], VALID, NOW);
    assert.deepEqual({ events: status.events, domains: status.domains, selector: status.selector }, {
      events: 'created,renewed',
      domains: 'api.example.com,*.example.com',
      selector: 'app=web,env in (dev,prod),tier=edge',
    });
  });

  test('no domains, and a selector that selects everything, print nothing', () => {
    const status = hookStatus(hook({ secretSelector: {} }), [], VALID, NOW);
    assert.equal(status.events, 'created,renewed,revoked');
    assert.equal('domains' in status, false);
    assert.equal('selector' in status, false);
  });

  test('an invalid selector prints nothing: Ready=False says what is wrong with it', () => {
    const status = hookStatus(hook({ secretSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: [] }] } }), [], { problems: ['spec.secretSelector: bad'] }, NOW);
    assert.equal('selector' in status, false);
  });
});
