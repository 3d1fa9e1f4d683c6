import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Deadlines } from '../../src/controller/deadlines.ts';

test('deadlines come due in time order, once, with only the latest schedule of a key', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const due: string[] = [];
  const deadlines = new Deadlines((key) => due.push(key));
  deadlines.schedule('c', 1_000_300);
  deadlines.schedule('a', 1_000_100);
  deadlines.schedule('b', 1_000_200);
  deadlines.schedule('b', 1_000_250); // moved later: its first deadline no longer counts
  deadlines.schedule('d', 1_000_000 + 40 * 24 * 3600_000); // beyond setTimeout's longest delay
  t.mock.timers.tick(150);
  assert.deepEqual(due, ['a']);
  t.mock.timers.tick(99);
  assert.deepEqual(due, ['a'], 'b moved to 250');
  t.mock.timers.tick(61);
  assert.deepEqual(due, ['a', 'b', 'c']);
  assert.equal(deadlines.size, 1);
  t.mock.timers.tick(40 * 24 * 3600_000);
  assert.deepEqual(due, ['a', 'b', 'c', 'd'], 'a deadline weeks away still comes due');
  deadlines.schedule('e', Date.now() + 10);
  deadlines.clear();
  t.mock.timers.tick(20);
  assert.deepEqual(due, ['a', 'b', 'c', 'd'], 'cleared');
});
