// Which printer a resource type uses: its CRD's printer columns, or the built-in kind's own.
import { builtinPrinters } from './builtin-printers.ts';
import type { ResourceType } from './registry.ts';
import type { KubeObject } from './store.ts';
import { buildTable, crdPrinter, type IncludeObject, type ListMeta, type Table } from './table.ts';

export type { IncludeObject };

export function renderTable(t: ResourceType, items: KubeObject[], opts: { includeObject: IncludeObject } & ListMeta): Table {
  const printer = t.definedBy ? crdPrinter(t.printerColumns) : builtinPrinters[t.plural] ?? crdPrinter(undefined);
  const { includeObject, ...listMeta } = opts;
  return buildTable(items, printer, { now: new Date(), includeObject, listMeta });
}
