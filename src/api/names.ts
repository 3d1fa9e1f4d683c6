// The API's names in one place: group, version, resource names, and the certhook.io/ label and
// annotation keys that tie DeployHookRuns, Jobs and snapshot Secrets to their hook, Secret and run.

export const GROUP = 'certhook.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;
/** `kubectl get certhook` lists every certhook resource. */
export const CATEGORY = 'certhook';

export const DEPLOY_HOOK = {
  kind: 'DeployHook',
  listKind: 'DeployHookList',
  plural: 'deployhooks',
  singular: 'deployhook',
  shortNames: ['dh'],
} as const;

export const CLUSTER_DEPLOY_HOOK = {
  kind: 'ClusterDeployHook',
  listKind: 'ClusterDeployHookList',
  plural: 'clusterdeployhooks',
  singular: 'clusterdeployhook',
  shortNames: ['cdh'],
} as const;

/** The kinds of hook a run's hookRef may name. */
export const HOOK_KINDS = [DEPLOY_HOOK.kind, CLUSTER_DEPLOY_HOOK.kind] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

export const DEPLOY_HOOK_RUN = {
  kind: 'DeployHookRun',
  listKind: 'DeployHookRunList',
  plural: 'deployhookruns',
  singular: 'deployhookrun',
  shortNames: ['dhr'],
} as const;

/** Names and label values: at most 63 characters. */
export const NAME_LIMIT = 63;

/** A label value: at most 63 characters, starting and ending alphanumeric. */
export function labelValue(text: string): string {
  return text.slice(0, NAME_LIMIT).replace(/[^A-Za-z0-9]+$/, '');
}

/**
 * Label keys. Label values are at most 63 characters: DeployHook names are capped at 63 by the CRD
 * so `hook` always fits, but Secret and run names may be longer (up to 253) and must be shortened
 * by whoever writes the label.
 */
export const LABELS = {
  /** The hook's name (DeployHook or ClusterDeployHook), on its DeployHookRuns, Jobs and snapshot Secrets. */
  hook: 'certhook.io/hook',
  /** The TLS Secret's name, on DeployHookRuns, Jobs and snapshot Secrets. */
  secret: 'certhook.io/secret',
  /** The TLS Secret's namespace, on a ClusterDeployHook's runs, Jobs and snapshot Secrets (they live elsewhere). */
  secretNamespace: 'certhook.io/secret-namespace',
  /** The DeployHookRun's name, on its Job and snapshot Secret. */
  run: 'certhook.io/run',
  /** The certificate event (created, renewed, revoked, manual), on DeployHookRuns and Jobs. */
  event: 'certhook.io/event',
} as const;

/** Annotation keys: for values that do not fit a label. */
export const ANNOTATIONS = {
  /** SHA-256 fingerprint of the leaf certificate (64 hex characters, one more than a label value allows). */
  fingerprint: 'certhook.io/fingerprint',
  /** The uid of the TLS Secret a run was planned for: a Secret deleted and re-created is a new Secret. */
  secretUid: 'certhook.io/secret-uid',
  /** When the operator planned the run, to the millisecond: orders the runs of one hook and Secret. */
  plannedAt: 'certhook.io/planned-at',
} as const;
