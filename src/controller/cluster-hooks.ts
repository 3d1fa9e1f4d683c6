// Which ClusterDeployHooks select which namespaces. A ClusterDeployHook's namespaceSelector is
// matched against the Namespace's labels (a Secret does not carry them), once per namespace until
// a ClusterDeployHook or that namespace's labels change: not once per Secret event. A namespace
// relabelled in or out fires nothing by itself; later events follow the new selection.
import type { Hook } from '../api/deployhook.ts';
import type { KubeObject } from '../kube/object.ts';
import type { CheckedHook } from './hook-validity.ts';
import { namespaceSelects } from './match.ts';

/** What the operator keeps of a Namespace: its labels. */
export interface NamespaceLabels {
  name: string;
  labels: Record<string, string>;
}

export const toNamespaceLabels = (raw: KubeObject): NamespaceLabels => ({ name: raw.metadata.name!, labels: raw.metadata.labels ?? {} });

export class ClusterHookSelection {
  private readonly byNamespace = new Map<string, CheckedHook[]>();
  private readonly hooks: () => Iterable<CheckedHook>;
  private readonly namespaces: () => ReadonlyMap<string, NamespaceLabels>;

  /**
   * `hooks`: the cached ClusterDeployHooks (none when they are not served); `namespaces`: the
   * cached Namespaces, by key (`/name`).
   */
  constructor(hooks: () => Iterable<CheckedHook>, namespaces: () => ReadonlyMap<string, NamespaceLabels>) {
    this.hooks = hooks;
    this.namespaces = namespaces;
  }

  /** The valid ClusterDeployHooks that select a namespace. */
  of(namespace: string): CheckedHook[] {
    let selecting = this.byNamespace.get(namespace);
    if (selecting) return selecting;
    const labels = this.namespaces().get(`/${namespace}`)?.labels;
    selecting = [];
    for (const entry of this.hooks()) if (entry.valid && namespaceSelects(entry.hook, labels)) selecting.push(entry);
    // A namespace not cached yet is looked at again once it is.
    if (labels) this.byNamespace.set(namespace, selecting);
    return selecting;
  }

  /**
   * Whether the namespace's labels are known. A Secret of a namespace just created may come
   * before its Namespace does: which ClusterDeployHooks select it is not known until then.
   */
  knows(namespace: string): boolean {
    return this.namespaces().has(`/${namespace}`);
  }

  /** The names of the cached namespaces a ClusterDeployHook selects. */
  namespacesOf(hook: Hook): string[] {
    return [...this.namespaces().values()].filter((ns) => namespaceSelects(hook, ns.labels)).map((ns) => ns.name);
  }

  /** A ClusterDeployHook came, went or changed. */
  hooksChanged(): void {
    this.byNamespace.clear();
  }

  /** A namespace's labels changed, or it came or went. */
  namespaceChanged(namespace: string): void {
    this.byNamespace.delete(namespace);
  }
}
