// The identity of a hook and of a run's hook and Secret, for both kinds of hook: the one place a
// DeployHook (namespaced; its runs beside it, for Secrets of its namespace) and a
// ClusterDeployHook (cluster-scoped; its runs in the operator's namespace, for Secrets of any
// namespace it selects) differ in where things are.
import type { ClusterDeployHook, Hook } from './deployhook.ts';
import { CLUSTER_DEPLOY_HOOK, DEPLOY_HOOK, type HookKind } from './names.ts';

interface RunRefs {
  metadata: { namespace?: string };
  spec: { hookRef: { kind?: HookKind; name: string }; secretRef: { name: string; namespace?: string } };
}

export const isClusterHook = (hook: Hook): hook is ClusterDeployHook => hook.kind === CLUSTER_DEPLOY_HOOK.kind;

export const isClusterRun = (run: Pick<RunRefs, 'spec'>): boolean => run.spec.hookRef.kind === CLUSTER_DEPLOY_HOOK.kind;

/**
 * The cache key of a run's hook, as the reflectors key the hook (`objectKey`): `namespace/name`
 * for the DeployHook of the run's namespace, `/name` for a ClusterDeployHook.
 */
export const hookKeyOfRun = (run: RunRefs): string =>
  `${isClusterRun(run) ? '' : run.metadata.namespace}/${run.spec.hookRef.name}`;

/** Whether a hook key names a ClusterDeployHook. */
export const isClusterHookKey = (key: string): boolean => key.startsWith('/');

/** The namespace of the run's Secret: its own, or for a ClusterDeployHook's run, the one secretRef names. */
export const secretNamespaceOf = (run: RunRefs): string => run.spec.secretRef.namespace ?? run.metadata.namespace!;

/** `namespace/name` of the run's Secret. */
export const secretKeyOfRun = (run: RunRefs): string => `${secretNamespaceOf(run)}/${run.spec.secretRef.name}`;

/** The run's hook as messages name it: `DeployHook "reload"` or `ClusterDeployHook "audit"`. */
export const runHookTitle = (run: Pick<RunRefs, 'spec'>): string => `${run.spec.hookRef.kind ?? DEPLOY_HOOK.kind} "${run.spec.hookRef.name}"`;

/** A hook as messages name it. */
export const hookTitle = (hook: Hook): string => `${hook.kind} "${hook.metadata.name}"`;

/** The namespace a hook's runs, Jobs and snapshots live in. */
export const runNamespaceOf = (hook: Hook, clusterHookNamespace: string): string =>
  (isClusterHook(hook) ? clusterHookNamespace : hook.metadata.namespace!);
