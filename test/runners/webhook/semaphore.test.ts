import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore } from '../../../src/runners/webhook/semaphore.ts';

test('a semaphore grants up to its limit, in order, and an aborted wait takes no slot', async () => {
  const slots = new Semaphore(2);
  const signal = new AbortController().signal;
  await slots.acquire(signal);
  await slots.acquire(signal);
  const order: string[] = [];
  const aborted = new AbortController();
  const third = slots.acquire(signal).then(() => order.push('third'));
  const cancelled = slots.acquire(aborted.signal).then(() => order.push('cancelled'), () => order.push('gave up'));
  const fourth = slots.acquire(signal).then(() => order.push('fourth'));
  aborted.abort();
  await cancelled;
  assert.equal(slots.inUse, 2);
  slots.release();
  await third;
  slots.release();
  await fourth;
  assert.deepEqual(order, ['gave up', 'third', 'fourth']);
  assert.equal(slots.inUse, 2);
});

test('a lowered limit applies to the next acquisitions; a raised one lets waiters in at once', async () => {
  const slots = new Semaphore(1);
  const signal = new AbortController().signal;
  await slots.acquire(signal);
  let second = false;
  const waiting = slots.acquire(signal).then(() => (second = true));
  slots.limit = 2;
  slots.release(); // 0 held → the waiter gets in
  await waiting;
  assert.equal(second, true);
  slots.limit = 1;
  const giveUp = new AbortController();
  const over = slots.acquire(giveUp.signal);
  giveUp.abort();
  await assert.rejects(over, 'one slot is held and the limit is one now: it waits until it gives up');
  assert.equal(slots.inUse, 1);
});
