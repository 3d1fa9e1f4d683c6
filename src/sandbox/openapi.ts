// The OpenAPI v3 documents kubectl reads: per group/version, the PATCH operations (kubectl checks
// them for the `fieldValidation` parameter before it lets the server validate) and, for custom
// resources, the CRD's schema (what `kubectl explain` prints). Built-in kinds' schemas are left
// out, so kubectl builds their strategic merge patches from its own compiled-in types.
import { createHash } from 'node:crypto';
import type { Registry, ResourceType } from './registry.ts';
import { cloneJson } from '../schema/json.ts';

type Doc = Record<string, unknown>;

const QUERY_PARAMETERS = ['fieldValidation', 'fieldManager', 'dryRun', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
}));

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

/** `certhook.io` → `io.certhook`: the component naming kube-apiserver uses for CRDs. */
const reversedGroup = (group: string) => group.split('.').reverse().join('.');

function gvk(t: ResourceType) {
  return { group: t.group, version: t.version, kind: t.kind };
}

function paths(t: ResourceType): Record<string, Doc> {
  const base = `/${gvPath(t.group, t.version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
  const contentTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
  const patch = (subresource: string) => ({
    patch: {
      description: `partially update the specified ${t.kind}${subresource}`,
      operationId: `patch${t.kind}${subresource}`,
      'x-kubernetes-action': 'patch',
      'x-kubernetes-group-version-kind': gvk(t),
      parameters: QUERY_PARAMETERS,
      requestBody: { content: Object.fromEntries(contentTypes.map((c) => [c, { schema: { type: 'object' } }])), required: true },
      responses: { '200': { description: 'OK' } },
    },
  });
  const result: Record<string, Doc> = { [`${base}/{name}`]: patch('') };
  if (t.statusSubresource) result[`${base}/{name}/status`] = patch('Status');
  return result;
}

function schemaComponent(t: ResourceType): Doc {
  const schema = cloneJson(t.schema ?? { type: 'object' }) as Doc & { properties?: Record<string, Doc> };
  schema.properties = {
    apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
    kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
    metadata: { type: 'object', description: "Standard object's metadata." },
    ...schema.properties,
  };
  return { ...schema, 'x-kubernetes-group-version-kind': [gvk(t)] };
}

export function groupVersionDocument(registry: Registry, group: string, version: string): Doc | undefined {
  const types = registry.all().filter((t) => t.group === group && t.version === version);
  if (!types.length) return undefined;
  const schemas: Record<string, Doc> = {};
  for (const t of types) if (t.definedBy) schemas[`${reversedGroup(t.group)}.${t.version}.${t.kind}`] = schemaComponent(t);
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.34.0' },
    paths: Object.assign({}, ...types.map(paths)),
    components: { schemas },
  };
}

/** The discovery document of /openapi/v3: one entry per group/version, with a content hash. */
export function openApiRoot(registry: Registry): Doc {
  const entries: Record<string, Doc> = {};
  for (const t of registry.all()) {
    const key = gvPath(t.group, t.version);
    if (entries[key]) continue;
    const doc = groupVersionDocument(registry, t.group, t.version);
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 32).toUpperCase();
    entries[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths: entries };
}

/** The document at `/openapi/v3/<gvPath>`, or undefined when no such group/version is served. */
export function openApiDocument(registry: Registry, path: string): Doc | undefined {
  const m = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  return groupVersionDocument(registry, m[2] ?? '', m[1] ?? m[3]!);
}
