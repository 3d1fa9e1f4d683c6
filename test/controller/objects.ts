// Hand-built inputs for the pure controller and runner modules: DeployHooks through their zod
// schema (so defaults apply as the operator's checkHook applies them), TLS Secrets with the facts
// of real certificates, and DeployHookRuns as the operator plans them.
import type { z } from 'zod';
import { DeployHookSchema, type DeployHook, type DeployHookSpecSchema, type Hook } from '../../src/api/deployhook.ts';
import type { DeployHookRun, DeployHookRunStatus } from '../../src/api/deployhookrun.ts';
import type { RunEvent } from '../../src/api/enums.ts';
import type { ObjectMeta } from '../../src/api/metav1.ts';
import { API_VERSION, DEPLOY_HOOK } from '../../src/api/names.ts';
import { createAuthority, type IssueRequest } from '../../src/certs/authority.ts';
import { parseCertificateBundle, type CertificateFacts } from '../../src/certs/bundle.ts';
import { firingOf, planRun } from '../../src/controller/plan.ts';
import type { TlsSecret } from '../../src/controller/tls-secret.ts';

export const NAMESPACE = 'web';
export const HOOK_CREATED = '2025-06-01T00:00:00Z';

const authority = createAuthority({ name: 'certhook unit CA' });

/** The facts of a freshly issued certificate, as the operator reads them from tls.crt. */
export function certificate(dnsNames: string[], request: Omit<IssueRequest, 'dnsNames'> = {}): CertificateFacts {
  const bundle = parseCertificateBundle(authority.issue({ dnsNames, ...request }).fullchainPem);
  if (!bundle.ok) throw new Error(bundle.message);
  return bundle.facts;
}

/** A TLS Secret in NAMESPACE; `undefined` facts make its tls.crt unreadable. */
export function secret(name: string, facts: CertificateFacts | undefined, fields: Partial<TlsSecret> = {}): TlsSecret {
  return {
    namespace: NAMESPACE,
    name,
    uid: `${name}-uid`,
    labels: {},
    creationTimestamp: '2025-06-02T00:00:00Z',
    writtenAt: undefined,
    certificate: facts,
    problem: facts ? undefined : { reason: 'Unparsable', message: 'tls.crt holds no CERTIFICATE PEM block (found no PEM blocks)' },
    ...fields,
  };
}

/** A DeployHook named reload-edge in NAMESPACE, created at HOOK_CREATED, defaults applied. */
export function hook(spec: Partial<z.input<typeof DeployHookSpecSchema>> = {}, metadata: ObjectMeta = {}): DeployHook {
  return DeployHookSchema.parse({
    apiVersion: API_VERSION,
    kind: DEPLOY_HOOK.kind,
    metadata: { name: 'reload-edge', namespace: NAMESPACE, uid: 'hook-uid', generation: 1, creationTimestamp: HOOK_CREATED, ...metadata },
    spec: { job: { command: 'nginx -s reload' }, ...spec },
  });
}

/**
 * The run the operator plans for `event` of the Secret's certificate, planned at `plannedAt`
 * (creationTimestamp: that second), with an optional status. A `manual` run is the same object
 * with the event and trigger a user would write.
 */
export function run(owner: Hook, event: RunEvent, of: TlsSecret, plannedAt: string, status?: DeployHookRunStatus): DeployHookRun {
  const planned = planRun(firingOf(owner, event === 'manual' ? 'created' : event, of), plannedAt, owner.metadata.namespace!);
  const name = event === 'manual' ? `test-${planned.metadata.name}` : planned.metadata.name!;
  return {
    ...planned,
    metadata: { ...planned.metadata, name, uid: `${name}-uid`, creationTimestamp: plannedAt.replace(/\.\d+Z$/, 'Z') },
    spec: event === 'manual' ? { ...planned.spec, event, triggeredBy: 'alice' } : planned.spec,
    ...(status ? { status } : {}),
  };
}
