// Server-side printing: the meta.k8s.io/v1 Table the API server returns when a client (kubectl)
// asks for `application/json;as=Table;v=v1;g=meta.k8s.io`. A Printer gives a resource's columns
// and cells; custom resources print from their CRD's additionalPrinterColumns.
import type { KubeObject } from '../kube/object.ts';
import { compileJsonPath, firstMatch, formatJsonPathValue, type JsonPath } from './jsonpath.ts';
import { cloneJson } from '../schema/json.ts';

export type TableColumnDefinition = { name: string; type: string; format: string; description: string; priority: number };
export type TableRowCondition = { type: string; status: string; reason?: string; message?: string };
export type TableRow = { cells: unknown[]; conditions?: TableRowCondition[]; object: unknown };
export type ListMeta = { resourceVersion?: string; continue?: string; remainingItemCount?: number };
export type Table = {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
};

/** What each row carries besides its cells (`?includeObject=`). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** How one resource prints: its columns, and the cells (and row conditions) of one object. */
export type Printer = {
  columns: readonly TableColumnDefinition[];
  row(obj: KubeObject, now: Date): { cells: unknown[]; conditions?: TableRowCondition[] };
};

/** A CRD version's additionalPrinterColumns entry. */
export type PrinterColumn = { name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string };

/** A bad `includeObject` or printer column; the API server answers 400 Bad Request. */
export class TableError extends Error {
  override name = 'TableError';
}

export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of a name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** A column definition; `format` and `priority` default as the API server's do ('' and 0). */
export function column(name: string, type: string, description: string, extra: { format?: string; priority?: number } = {}): TableColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}

export const NAME_COLUMN = column('Name', 'string', NAME_DESCRIPTION, { format: 'name' });

/** Reads `?includeObject=`; absent means Metadata. */
export function parseIncludeObject(value: string | null | undefined): IncludeObject {
  if (value === null || value === undefined || value === '') return 'Metadata';
  if (value === 'None' || value === 'Metadata' || value === 'Object') return value;
  throw new TableError(`unrecognized includeObject value: ${JSON.stringify(value)}`);
}

/**
 * Builds the Table for `items`. `listMeta` is the list's metadata (for a single object, just
 * its resourceVersion); `noHeaders` leaves the column definitions out, as `?noHeaders=true`
 * (`TableOptions.noHeaders`) asks.
 */
export function buildTable(
  items: readonly KubeObject[],
  printer: Printer,
  options: { now: Date; includeObject?: IncludeObject; listMeta?: ListMeta; noHeaders?: boolean },
): Table {
  const include = options.includeObject ?? 'Metadata';
  const metadata: ListMeta = {};
  const { resourceVersion, continue: next, remainingItemCount } = options.listMeta ?? {};
  if (resourceVersion) metadata.resourceVersion = resourceVersion;
  if (next) metadata.continue = next;
  if (remainingItemCount !== undefined) metadata.remainingItemCount = remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: options.noHeaders ? [] : printer.columns.map((c) => ({ ...c })),
    rows: items.map((obj) => {
      const { cells, conditions } = printer.row(obj, options.now);
      const row: TableRow = { cells, object: rowObject(obj, include) };
      if (conditions) row.conditions = conditions;
      return row;
    }),
  };
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  switch (include) {
    case 'None':
      return null;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cloneJson(obj.metadata) };
    case 'Object':
      return cloneJson(obj);
  }
}

/**
 * The printer of a custom resource: Name, then the CRD's additionalPrinterColumns, or Age
 * when it has none (as apiextensions-apiserver serves them).
 */
export function crdPrinter(printerColumns: readonly PrinterColumn[] | undefined): Printer {
  const declared = printerColumns?.length
    ? printerColumns
    : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: CREATION_TIMESTAMP_DESCRIPTION }];
  const compiled = declared.map((c) => {
    let path: JsonPath;
    try {
      path = compileJsonPath(c.jsonPath);
    } catch {
      throw new TableError(`unrecognized column definition ${JSON.stringify(c.jsonPath)}`);
    }
    const description = c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`;
    return { definition: column(c.name, c.type, description, c), path };
  });
  return {
    columns: [NAME_COLUMN, ...compiled.map((c) => c.definition)],
    row: (obj, now) => ({
      cells: [obj.metadata.name ?? '', ...compiled.map((c) => printerCell(c.definition.type, firstMatch(c.path, obj), now))],
    }),
  };
}

// The cell of one printer column (the CRD table convertor's cellForJSONValue): string columns
// print any value as jsonpath does; other types keep a value of their own type or are empty.
function printerCell(type: string, match: { value: unknown } | undefined, now: Date): unknown {
  if (!match) return null;
  const { value } = match;
  if (type === 'string') return formatJsonPathValue(value);
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? age(value, now) : null;
    default:
      return null;
  }
}

// Go's zero time.Time, which metav1.Time prints as unknown.
const ZERO_TIME_MS = -62135596800000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds of an RFC 3339 timestamp; undefined when absent or zero, NaN when malformed. */
export function parseTimestamp(timestamp: unknown): number | undefined {
  if (timestamp === undefined || timestamp === null || timestamp === '' || timestamp === 'null') return undefined;
  if (typeof timestamp !== 'string' || !RFC3339.test(timestamp)) return Number.NaN;
  const ms = Date.parse(timestamp);
  return ms === ZERO_TIME_MS ? undefined : ms;
}

/** How long ago `timestamp` was, as kubectl's AGE prints it; `<unknown>` when unset. */
export function age(timestamp: unknown, now: Date): string {
  const ms = parseTimestamp(timestamp);
  if (ms === undefined) return '<unknown>';
  if (Number.isNaN(ms)) return '<invalid>';
  return humanDuration(now.getTime() - ms);
}

/**
 * k8s.io/apimachinery/pkg/util/duration.HumanDuration: about two significant units, e.g.
 * `45s`, `3m20s`, `25m`, `5h7m`, `30h`, `2d3h`, `20d`, `3y10d`. Up to 2s in the future reads
 * as `0s` (clock skew), further as `<invalid>`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRemainder(minutes, 'm', seconds % 60, 's');
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRemainder(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return withRemainder(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return withRemainder(years, 'y', days % 365, 'd');
  return `${years}y`;
}

function withRemainder(value: number, unit: string, remainder: number, remainderUnit: string): string {
  return remainder === 0 ? `${value}${unit}` : `${value}${unit}${remainder}${remainderUnit}`;
}
