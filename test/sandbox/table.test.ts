import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/object.ts';
import {
  age,
  buildTable,
  crdPrinter,
  humanDuration,
  NAME_COLUMN,
  parseIncludeObject,
  TableError,
  type Printer,
} from '../../src/sandbox/table.ts';

const now = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanDuration (apimachinery HumanDuration)', () => {
  test('each range of the rules', () => {
    const cases: [number, string][] = [
      [-3 * S, '<invalid>'],
      [-1.5 * S, '0s'],
      [0, '0s'],
      [5 * S, '5s'],
      [119 * S, '119s'],
      [2 * M, '2m'],
      [3 * M + 20 * S, '3m20s'],
      [9 * M + 59 * S, '9m59s'],
      [10 * M + 30 * S, '10m'],
      [179 * M, '179m'],
      [3 * H, '3h'],
      [5 * H + 7 * M, '5h7m'],
      [8 * H + 30 * M, '8h'],
      [47 * H, '47h'],
      [2 * D, '2d'],
      [2 * D + 3 * H, '2d3h'],
      [8 * D + 5 * H, '8d'],
      [729 * D, '729d'],
      [730 * D, '2y'],
      [3 * 365 * D + 10 * D, '3y10d'],
      [9 * 365 * D + 100 * D, '9y'],
    ];
    for (const [ms, expected] of cases) assert.equal(humanDuration(ms), expected, `${ms}ms`);
  });

  test('age reads RFC 3339 timestamps; unset or zero is <unknown>, garbage <invalid>', () => {
    assert.equal(age(ago(200), now), '3m20s');
    assert.equal(age('2025-06-01T11:59:55.123456Z', now), '4s');
    assert.equal(age('2025-06-01T13:59:00+02:00', now), '60s');
    assert.equal(age(undefined, now), '<unknown>');
    assert.equal(age('', now), '<unknown>');
    assert.equal(age('0001-01-01T00:00:00Z', now), '<unknown>');
    assert.equal(age('yesterday', now), '<invalid>');
  });
});

describe('parseIncludeObject', () => {
  test('defaults to Metadata and rejects unknown values', () => {
    assert.equal(parseIncludeObject(null), 'Metadata');
    assert.equal(parseIncludeObject('None'), 'None');
    assert.equal(parseIncludeObject('Object'), 'Object');
    assert.throws(() => parseIncludeObject('All'), (err: unknown) => err instanceof TableError && err.message === 'unrecognized includeObject value: "All"');
  });
});

const hook = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'certhook.io/v1alpha1',
  kind: 'DeployHook',
  metadata: { name, namespace: 'web', resourceVersion: '7', creationTimestamp: ago(3 * D / S), labels: { a: 'b' } },
  spec,
  status,
});

describe('buildTable', () => {
  const printer: Printer = {
    columns: [NAME_COLUMN],
    row: (obj) => ({ cells: [obj.metadata.name], conditions: [{ type: 'Completed', status: 'True' }] }),
  };

  test('a Table with the list metadata, columns, cells and row conditions', () => {
    const table = buildTable([hook('a', {}), hook('b', {})], printer, { now, listMeta: { resourceVersion: '42', continue: 'tok', remainingItemCount: 3 } });
    assert.equal(table.kind, 'Table');
    assert.equal(table.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(table.metadata, { resourceVersion: '42', continue: 'tok', remainingItemCount: 3 });
    assert.deepEqual(table.columnDefinitions, [NAME_COLUMN]);
    assert.deepEqual(table.rows.map((r) => r.cells), [['a'], ['b']]);
    assert.deepEqual(table.rows[0]!.conditions, [{ type: 'Completed', status: 'True' }]);
    assert.deepEqual(buildTable([], printer, { now }).metadata, {});
  });

  test('rows carry PartialObjectMetadata by default, the object, or nothing', () => {
    const obj = hook('a', { enabled: true });
    const [metadataRow] = buildTable([obj], printer, { now }).rows;
    assert.deepEqual(metadataRow!.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata });
    const [objectRow] = buildTable([obj], printer, { now, includeObject: 'Object' }).rows;
    assert.deepEqual(objectRow!.object, obj);
    assert.notEqual(objectRow!.object, obj);
    assert.equal(buildTable([obj], printer, { now, includeObject: 'None' }).rows[0]!.object, null);
  });

  test('noHeaders leaves the column definitions out', () => {
    assert.deepEqual(buildTable([hook('a', {})], printer, { now, noHeaders: true }).columnDefinitions, []);
  });
});

describe('crdPrinter', () => {
  const columns = [
    { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
    { name: 'Events', type: 'string', jsonPath: '.spec.onEvents', description: 'What fires the hook', priority: 1 },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Last Run', type: 'string', jsonPath: '.status.lastRun.phase' },
    { name: 'Timeout', type: 'integer', jsonPath: '.spec.timeoutSeconds', format: 'int32' },
    { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
    { name: 'Last Fired', type: 'date', jsonPath: '.status.lastRun.startTime' },
  ];

  test('columns are Name then the printer columns, with the apiserver defaults', () => {
    const names = crdPrinter(columns).columns;
    assert.deepEqual(names[0], NAME_COLUMN);
    assert.deepEqual(names[1], { name: 'Enabled', type: 'boolean', format: '', description: 'Custom resource definition column (in JSONPath format): .spec.enabled', priority: 0 });
    assert.deepEqual(names[2], { name: 'Events', type: 'string', format: '', description: 'What fires the hook', priority: 1 });
    assert.equal(names[5]!.format, 'int32');
  });

  test('cells keep their column type; string columns print any value; missing values are null', () => {
    const printer = crdPrinter(columns);
    const full = hook(
      'reload-edge',
      { enabled: false, onEvents: ['created', 'renewed'], timeoutSeconds: 30.7, ratio: 0.5 },
      { conditions: [{ type: 'Ready', status: 'True' }], lastRun: { phase: 'Succeeded', startTime: ago(125) } },
    );
    assert.deepEqual(printer.row(full, now).cells, ['reload-edge', false, '["created","renewed"]', 'True', 'Succeeded', 30, 0.5, '2m5s']);
    assert.deepEqual(printer.row(hook('bare', {}), now).cells, ['bare', null, null, null, null, null, null, null]);
    // A value of the wrong type leaves a typed column empty.
    const wrong = hook('wrong', { enabled: 'yes', timeoutSeconds: '30', ratio: true }, { lastRun: { phase: 3, startTime: 'soon' } });
    assert.deepEqual(printer.row(wrong, now).cells, ['wrong', null, null, null, '3', null, null, '<invalid>']);
  });

  test('with no printer columns a CRD prints Name and Age', () => {
    const printer = crdPrinter(undefined);
    assert.deepEqual(printer.columns.map((c) => [c.name, c.type]), [['Name', 'string'], ['Age', 'date']]);
    assert.deepEqual(printer.row(hook('a', {}), now).cells, ['a', '3d']);
    assert.deepEqual(crdPrinter([]).columns.length, 2);
  });

  test('an unusable jsonPath is rejected', () => {
    assert.throws(() => crdPrinter([{ name: 'Bad', type: 'string', jsonPath: '..spec' }]), (err: unknown) => err instanceof TableError && /unrecognized column definition/.test(err.message));
  });
});
