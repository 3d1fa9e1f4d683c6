// The work queue's scheduling, on mocked timers: a reconcile's requeue, throttled and quiet
// additions, backoff after a failure, and stop().
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { WorkQueue, type ReconcileResult } from '../../src/controller/work-queue.ts';

const log = pino({ level: 'silent' });

/** Lets the queue's promises settle (no timer involved). */
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** Advances the mocked clock by `ms` in steps, letting the queue work in between. */
async function advance(ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    mock.timers.tick(step);
    await settle();
  }
}

/** A queue that records how often each key was reconciled. */
function recording(result: (key: string, n: number) => ReconcileResult = () => undefined) {
  const counts = new Map<string, number>();
  const queue = new WorkQueue('test', async (key) => {
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return result(key, n);
  }, log);
  return { queue, count: (key: string) => counts.get(key) ?? 0 };
}

describe('WorkQueue', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  test('a reconcile that asks to be looked at again after N ms is, then', async () => {
    const { queue, count } = recording((_key, n) => (n === 1 ? { requeueAfterMs: 100 } : undefined));
    queue.add('a');
    await settle();
    assert.equal(count('a'), 1);
    await advance(90);
    assert.equal(count('a'), 1);
    await advance(20);
    assert.equal(count('a'), 2);
    queue.stop();
  });

  test('addAfter: many calls in a burst cost one reconcile, at the first call\'s time', async () => {
    const { queue, count } = recording();
    for (let i = 0; i < 5; i++) {
      queue.addAfter('h', 100);
      await advance(15);
    }
    assert.equal(count('h'), 1);
    await advance(200);
    assert.equal(count('h'), 1);
    queue.stop();
  });

  test('addQuiet: nothing while the calls keep coming, one reconcile once they stop for the quiet time', async () => {
    const { queue, count } = recording();
    for (let i = 0; i < 10; i++) {
      queue.addQuiet('q', 60, 10_000);
      await advance(20);
    }
    assert.equal(count('q'), 0);
    await advance(70);
    assert.equal(count('q'), 1);
    queue.stop();
  });

  test('addQuiet: calls that never stop still get a reconcile every longest wait', async () => {
    const { queue, count } = recording();
    for (let i = 0; i < 30; i++) {
      queue.addQuiet('m', 60, 200);
      await advance(20);
    }
    // 600 ms of calls, 20 ms apart: one reconcile per 200 ms.
    assert.equal(count('m'), 3);
    queue.stop();
  });

  test('a failed reconcile comes back after a backoff; stop() cancels what is due', async () => {
    const { queue, count } = recording((_key, n) => {
      if (n === 1) throw new Error('transient');
    });
    queue.add('f');
    await settle();
    assert.equal(count('f'), 1);
    // The first backoff is 125 to 250 ms.
    await advance(260);
    assert.equal(count('f'), 2);
    queue.addAfter('g', 50);
    queue.stop();
    await advance(100);
    assert.equal(count('g'), 0);
  });

  test('keys added while the queue does not accept are dropped, not processed later', async () => {
    let accepting = false;
    const seen: string[] = [];
    const queue = new WorkQueue('gated', async (key) => void seen.push(key), log, 4, undefined, () => accepting);
    queue.add('a');
    queue.addAfter('b', 10);
    queue.addQuiet('c', 10, 100);
    await advance(50);
    assert.deepEqual(seen, []);
    assert.equal(queue.length + queue.delayed, 0);
    accepting = true;
    queue.add('d');
    await settle();
    assert.deepEqual(seen, ['d']);
    queue.stop();
  });
});
