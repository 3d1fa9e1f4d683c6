// The README's values table is the chart's: generated from values.schema.json and values.yaml's
// `# --` comments (npm run generate:chart-docs), and this fails while it is stale.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TABLE_END, TABLE_START, typeOf, valueRows, valuesTable, withTable, type JsonSchema } from '../../scripts/chart-docs.ts';
import { CHART, ROOT } from './chart-render.ts';

const read = (path: string) => readFile(path, 'utf8');

describe('the README\'s values table', () => {
  test('is what npm run generate:chart-docs writes', async () => {
    const schema = JSON.parse(await read(join(CHART, 'values.schema.json'))) as JsonSchema;
    const readme = await read(join(ROOT, 'README.md'));
    const table = valuesTable(valueRows(schema, await read(join(CHART, 'values.yaml'))));
    assert.ok(readme === withTable(readme, table), 'README.md\'s values table is stale: run `npm run generate:chart-docs` and commit the result');
  });
});

describe('valueRows', () => {
  const schema: JsonSchema = {
    definitions: { port: { type: 'integer', minimum: 1, maximum: 65535 } },
    properties: {
      port: { $ref: '#/definitions/port' },
      group: { properties: { mode: { enum: ['soft', 'hard'] }, ratio: { oneOf: [{ type: 'null' }, { type: 'number', exclusiveMinimum: 0 }] } } },
      resources: { properties: { limits: { type: 'object' } } },
    },
  };
  const values = [
    '# -- The port.',
    'port: 8080',
    'group:',
    '  # -- How, on',
    '  # two lines.',
    '  mode: soft',
    '  # -- A | ratio.',
    '  ratio: null',
    '# -- Requests and limits.',
    'resources:',
    '  limits: {}',
  ].join('\n');

  test('a described value is a row with its schema\'s type and bounds and its default; an undescribed object groups its fields', () => {
    assert.deepEqual(valueRows(schema, values), [
      { key: 'port', type: 'integer (1–65535)', default: 8080, description: 'The port.' },
      { key: 'group.mode', type: '"soft" | "hard"', default: 'soft', description: 'How, on two lines.' },
      { key: 'group.ratio', type: 'null | number (> 0)', default: null, description: 'A | ratio.' },
      { key: 'resources', type: 'any', default: { limits: {} }, description: 'Requests and limits.' },
    ]);
    assert.match(valuesTable(valueRows(schema, values)), /\| `group\.ratio` \| null \\\| number \(> 0\) \| `null` \| A \\\| ratio\. \|/);
  });

  test('refuses a value without a description, one the schema lacks, and one without a default', () => {
    assert.throws(() => valueRows(schema, values.replace('# -- The port.', '# The port.')), /values\.yaml: port has no "# --" description/);
    assert.throws(() => valueRows(schema, `${values}\n# -- New.\nextra: 1`), /values\.yaml: extra is not in values\.schema\.json/);
    assert.throws(() => valueRows(schema, values.replace('# -- The port.\nport: 8080\n', '')), /values\.yaml has no default for port/);
  });

  test('types: arrays of their items, alternatives, bounds', () => {
    assert.equal(typeOf({ type: 'array', items: { type: 'string' } }, schema), 'array of string');
    assert.equal(typeOf({ type: ['string', 'number'] }, schema), 'string | number');
    assert.equal(typeOf({ type: 'number', minimum: 0 }, schema), 'number (≥ 0)');
    assert.throws(() => typeOf({ $ref: '#/definitions/nope' }, schema), /cannot resolve #\/definitions\/nope/);
  });

  test('withTable replaces what is between the markers, and says when they are missing', () => {
    const readme = `intro\n${TABLE_START}\nold\n${TABLE_END}\nrest\n`;
    assert.equal(withTable(readme, 'new'), `intro\n${TABLE_START}\nnew\n${TABLE_END}\nrest\n`);
    assert.throws(() => withTable('no markers', 'new'), /README\.md has no/);
  });
});
