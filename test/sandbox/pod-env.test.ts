import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ContainerStartError, ContainerWaiting } from '../../src/sandbox/container-errors.ts';
import { containerEnv, expandReferences, type ConfigSource } from '../../src/sandbox/pod-env.ts';
import type { Container } from '../../src/sandbox/pod-types.ts';
import type { KubeObject } from '../../src/sandbox/store.ts';

const placement = { nodeName: 'sandbox-node', hostIP: '127.0.0.1', podIP: '127.0.0.1' };
const pod: KubeObject = { metadata: { name: 'p', namespace: 'ns', uid: 'u-1', labels: { app: 'a' }, annotations: { note: 'n' } }, spec: { containers: [] } };
const nothing: ConfigSource = { secret: () => undefined, configMap: () => undefined };

describe('expandReferences (Kubernetes $(VAR) expansion)', () => {
  const vars = new Map([['VAR_A', 'A'], ['VAR_B', 'B'], ['EMPTY', ''], ['VAR_REF', '$(VAR_A)']]);
  // Cases from Kubernetes' third_party/forked/golang/expansion tests.
  const cases: [string, string][] = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_A)$(VAR_B)', 'AB'],
    ['$(EMPTY)x', 'x'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$(VAR_B)_$(VAR_A)', '$(VAR_B)_A'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A)', '$VAR_A)'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['$(', '$('],
    ['$', '$'],
    ['$()', '$()'],
    ['no refs', 'no refs'],
    ['$$(VAR_A)_$$(VAR_B)', '$(VAR_A)_$(VAR_B)'],
    ['foo\\$(VAR_B)bar', 'foo\\Bbar'],
    ['$(VAR_A$(VAR_B))', '$(VAR_A$(VAR_B))'],
    ['$(VAR_A$(VAR_B)', '$(VAR_A$(VAR_B)'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['$?_boo_$!', '$?_boo_$!'],
    ['${VAR_A}', '${VAR_A}'],
    ['$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['$(VAR_B)_______$(A', 'B_______$(A'],
    ['--$($($($($--', '--$($($($($--'],
    ['$(foo$$var)', '$(foo$$var)'],
    ['$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['\n', '\n'],
    // A `$` before a character of several bytes keeps it whole (Kubernetes reads a rune there).
    ['$é$(VAR_A)', '$éA'],
    ['$😀$$', '$😀$'],
  ];
  for (const [input, expected] of cases) {
    test(JSON.stringify(input), () => assert.equal(expandReferences(input, vars), expected));
  }
});

describe('containerEnv', () => {
  test('a value sees only the variables defined before it', () => {
    const container: Container = { name: 'c', env: [{ name: 'B', value: '$(A)-$(C)' }, { name: 'A', value: 'a' }, { name: 'C', value: '$(A)' }] };
    assert.deepEqual([...containerEnv(pod, container, nothing, placement)], [['B', '$(A)-$(C)'], ['A', 'a'], ['C', 'a']]);
  });

  test('env overrides envFrom, which gets its prefix', () => {
    const source: ConfigSource = { secret: () => undefined, configMap: () => ({ metadata: {}, data: { x: '1', y: '2' } }) };
    const container: Container = { name: 'c', envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'P_' }], env: [{ name: 'P_x', value: 'override' }] };
    assert.deepEqual(Object.fromEntries(containerEnv(pod, container, source, placement)), { P_x: 'override', P_y: '2' });
  });

  test('fieldRef reads the pod', () => {
    const ref = (fieldPath: string) => ({ name: fieldPath, valueFrom: { fieldRef: { fieldPath } } });
    const container: Container = { name: 'c', env: [ref("metadata.annotations['note']"), ref("metadata.labels['missing']"), ref('spec.nodeName'), ref('status.hostIP')] };
    assert.deepEqual([...containerEnv(pod, container, nothing, placement).values()], ['n', '', 'sandbox-node', '127.0.0.1']);
  });

  test('missing references wait, naming what is missing; unsupported ones cannot start', () => {
    const waiting = (container: Container) => {
      try {
        containerEnv(pod, container, nothing, placement);
      } catch (err) {
        assert.ok(err instanceof ContainerWaiting);
        return [err.reason, err.message];
      }
      assert.fail('expected ContainerWaiting');
    };
    assert.deepEqual(waiting({ name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } }] }), ['CreateContainerConfigError', 'configmap "cm" not found']);
    assert.deepEqual(waiting({ name: 'c', envFrom: [{ secretRef: { name: 's' } }] }), ['CreateContainerConfigError', 'secret "s" not found']);
    assert.throws(() => containerEnv(pod, { name: 'c', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] }, nothing, placement), ContainerStartError);
  });
});
