// Where a field is in a parsed YAML document: the offset of its key (of the item, in a list), or
// of its nearest ancestor present when the field is missing (a required field, say).
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type YAMLMap } from 'yaml';

// One step of a field path: `.name`, `[3]`, `[key]` or `["quoted key"]`.
const STEP = /\.?([^.[\]]+)|\[("(?:[^"\\]|\\.)*"|[^\]]*)\]/gy;

function steps(path: string): string[] {
  const out: string[] = [];
  STEP.lastIndex = 0;
  for (let match = STEP.exec(path); match; match = STEP.exec(path)) {
    const [, name, bracketed] = match;
    out.push(name ?? (bracketed?.startsWith('"') ? (JSON.parse(bracketed) as string) : (bracketed ?? '')));
  }
  return out;
}

interface Step {
  node: Node | undefined;
  offset: number;
  /** How many names the step consumed. */
  length: number;
}

/** The offset in the source of the field at `path`, or of the nearest ancestor present. */
export function fieldOffset(doc: Document, path: string): number {
  let node = resolve(doc, doc.contents);
  let offset = node?.range?.[0] ?? 0;
  const names = steps(path);
  for (let i = 0; i < names.length && node; ) {
    const step = isSeq(node) ? itemStep(doc, node.items, names[i]!) : isMap(node) ? keyStep(doc, node, names.slice(i)) : undefined;
    if (!step) break;
    ({ node, offset } = step);
    i += step.length;
  }
  return offset;
}

function itemStep(doc: Document, items: unknown[], name: string): Step | undefined {
  const item = /^\d+$/.test(name) ? resolve(doc, items[Number(name)] as Node | undefined) : undefined;
  return item?.range ? { node: item, offset: item.range[0], length: 1 } : undefined;
}

/** kube-openapi's spelling splits a map key with dots (labels.app.kubernetes.io/name): the longest key that matches wins. */
function keyStep(doc: Document, map: YAMLMap, names: string[]): Step | undefined {
  for (let length = names.length; length > 0; length--) {
    const key = names.slice(0, length).join('.');
    const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    const range = (pair?.key as Node | undefined)?.range;
    if (pair && range) return { node: resolve(doc, pair.value as Node | null), offset: range[0], length };
  }
  return undefined;
}

function resolve(doc: Document, node: Node | null | undefined): Node | undefined {
  if (!node) return undefined;
  return isAlias(node) ? (node.resolve(doc) as Node | undefined) : node;
}
