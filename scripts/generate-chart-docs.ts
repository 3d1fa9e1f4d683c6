// Writes the Helm chart's values table (scripts/chart-docs.ts) into README.md's "Helm values"
// section. Run with `npm run generate:chart-docs`; test/helm/chart-values.test.ts fails while the
// README's table differs from this output.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { valueRows, valuesTable, withTable, type JsonSchema } from './chart-docs.ts';

const root = join(import.meta.dirname, '..');
const chart = join(root, 'helm', 'certhook');
const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as JsonSchema;
const table = valuesTable(valueRows(schema, readFileSync(join(chart, 'values.yaml'), 'utf8')));
const readme = join(root, 'README.md');
writeFileSync(readme, withTable(readFileSync(readme, 'utf8'), table));
console.log('wrote the values table of README.md');
