import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { DeployHookRun, DeployHookRunStatus } from '../../src/api/deployhookrun.ts';
import type { RunEvent } from '../../src/api/enums.ts';
import { runsToPrune } from '../../src/controller/retention.ts';
import { certificate, hook, NAMESPACE, run, secret } from './objects.ts';

const owner = hook();
const facts = certificate(['api.example.com']);
const succeeded: DeployHookRunStatus = { phase: 'Succeeded', reason: 'Completed' };

/** Run `name` of `event` for Secret `secretName`, planned at minute `minute`. */
function at(name: string, event: RunEvent, secretName: string, minute: number, status: DeployHookRunStatus = succeeded): DeployHookRun {
  const r = run(owner, event, secret(secretName, facts), `2025-06-02T00:${String(minute).padStart(2, '0')}:00.000Z`, status);
  return { ...r, metadata: { ...r.metadata, name } };
}

/** A Secret's key (`namespace/name`) from its name, and back. */
const keyOf = (name: string) => `${NAMESPACE}/${name}`;
const nameOf = (key: string) => key.slice(NAMESPACE.length + 1);

/** `existing`: Secret names, each with the uid `secret()` gives it, or `name=uid`. */
const pruned = (runs: DeployHookRun[], limit: number, existing: string[]) => {
  const uids = new Map(existing.map((e) => (e.includes('=') ? e.split('=') as [string, string] : [e, `${e}-uid`])));
  return runsToPrune(runs, limit, (key) => uids.get(nameOf(key))).map((r) => r.metadata.name).sort();
};

describe('runsToPrune', () => {
  test('keeps the newest historyLimit runs and prunes the older ones', () => {
    const runs = [at('a1', 'created', 'a', 1), at('a2', 'renewed', 'a', 2), at('a3', 'renewed', 'a', 3), at('a4', 'renewed', 'a', 4), at('a5', 'renewed', 'a', 5)];
    assert.deepEqual(pruned(runs, 2, ['a']), ['a1', 'a2', 'a3']);
    assert.deepEqual(pruned(runs, 5, ['a']), []);
  });

  test('keeps the latest run of a Secret that exists, however old', () => {
    const runs = [at('old1', 'created', 'old', 1), at('new2', 'created', 'new', 2), at('new3', 'renewed', 'new', 3), at('new4', 'renewed', 'new', 4)];
    assert.deepEqual(pruned(runs, 1, ['old', 'new']), ['new2', 'new3']);
  });

  test('keeps the latest run of a Secret that is gone until its revoke fired', () => {
    const runs = [at('gone1', 'created', 'gone', 1), at('gone2', 'renewed', 'gone', 2), at('b3', 'created', 'b', 3)];
    assert.deepEqual(pruned(runs, 1, ['b']), ['gone1']);
  });

  test('keeps the run whose snapshot holds an unfinished revoked run\'s files, until that run finishes', () => {
    const runs = [at('gone1', 'created', 'gone', 1), at('gone2', 'renewed', 'gone', 2), { ...at('gone3', 'revoked', 'gone', 3), status: undefined }, at('b4', 'created', 'b', 4)];
    assert.deepEqual(pruned(runs, 1, ['b']), ['gone1']);
    const pending = { ...runs[2]!, status: { phase: 'Pending' as const } };
    assert.deepEqual(pruned([runs[0]!, runs[1]!, pending, runs[3]!], 1, ['b']), ['gone1']);
    const done = at('gone3', 'revoked', 'gone', 3);
    assert.deepEqual(pruned([runs[0]!, runs[1]!, done, runs[3]!], 1, ['b']), ['gone1', 'gone2', 'gone3']);
  });

  test('a Secret re-created under the same name: the old one\'s run stays for its unfinished revoke', () => {
    const again = (name: string, event: RunEvent, minute: number, uid: string, status?: DeployHookRunStatus): DeployHookRun => {
      const r = run(owner, event, secret('a', facts, { uid }), `2025-06-02T00:0${minute}:00.000Z`, status ?? succeeded);
      return { ...r, metadata: { ...r.metadata, name } };
    };
    const runs = [again('old1', 'created', 1, 'old'), again('new2', 'created', 2, 'new'), { ...again('old3', 'revoked', 3, 'old'), status: undefined }];
    // old3 is the newest, new2 the re-created Secret's own latest run, old1 holds old3's files.
    assert.deepEqual(pruned(runs, 1, ['a=new']), []);
    const done = again('old3', 'revoked', 3, 'old');
    assert.deepEqual(pruned([runs[0]!, runs[1]!, done], 1, ['a=new']), ['old1']);
  });

  test('prunes every run of a Secret that is gone and revoked, past the limit', () => {
    const runs = [at('gone1', 'created', 'gone', 1), at('gone2', 'revoked', 'gone', 2), at('b3', 'created', 'b', 3)];
    assert.deepEqual(pruned(runs, 1, ['b']), ['gone1', 'gone2']);
  });

  test('keeps the revoked run when a Secret of that name exists again', () => {
    const runs = [at('a1', 'created', 'a', 1), at('a2', 'revoked', 'a', 2), at('b3', 'created', 'b', 3)];
    assert.deepEqual(pruned(runs, 1, ['a', 'b']), ['a1']);
  });

  test('a manual run is not the ledger: kept only within the limit', () => {
    const runs = [at('a1', 'created', 'a', 1), at('a2-test', 'manual', 'a', 2), at('b3', 'created', 'b', 3)];
    assert.deepEqual(pruned(runs, 1, ['a', 'b']), ['a2-test']);
    assert.deepEqual(pruned(runs, 2, ['a', 'b']), []);
  });

  test('never prunes a run that has not finished', () => {
    const runs = [
      { ...at('a1', 'created', 'a', 1), status: undefined },
      at('a2', 'renewed', 'a', 2, { phase: 'Pending' }),
      at('a3', 'renewed', 'a', 3, { phase: 'Running' }),
      at('a4', 'renewed', 'a', 4, { phase: 'Failed', reason: 'ExitCode' }),
      at('a5', 'renewed', 'a', 5, { phase: 'Skipped', reason: 'Superseded' }),
      at('a6', 'renewed', 'a', 6),
    ];
    assert.deepEqual(pruned(runs, 1, ['a']), ['a4', 'a5']);
  });
});

describe('runsToPrune with marks: only the pairs that changed are looked at', () => {
  const runs = [at('a1', 'created', 'a', 1), at('a2', 'renewed', 'a', 2), at('b1', 'created', 'b', 3), at('b2', 'renewed', 'b', 4), at('c1', 'created', 'c', 5)];
  const prune = (marks: Parameters<typeof runsToPrune>[3]) => runsToPrune(runs, 2, (key) => `${nameOf(key)}-uid`, marks).map((r) => r.metadata.name).sort();

  test('a marked Secret\'s older runs go; an unmarked one is not looked at', () => {
    assert.deepEqual(prune({ all: false, secrets: new Set([keyOf('a')]), added: 0 }), ['a1']);
    assert.deepEqual(prune({ all: false, secrets: new Set(), added: 0 }), []);
  });

  test('runs added push older runs past the limit: their pairs are looked at too', () => {
    // c1 and b2 are the newest two; one run added pushed b1 out of them.
    assert.deepEqual(prune({ all: false, secrets: new Set([keyOf('c')]), added: 1 }), ['b1']);
    assert.deepEqual(prune({ all: false, secrets: new Set([keyOf('c')]), added: 3 }), ['a1', 'b1']);
  });

  test('all: the same as no marks', () => {
    assert.deepEqual(prune({ all: true, secrets: new Set(), added: 0 }), prune(undefined));
  });
});
