// The CRDs as the YAML files committed under crds/ (and printed by `certhook crds`).
import { dump } from 'js-yaml';
import { customResourceDefinitions } from './crd.ts';
import { GROUP } from './names.ts';

export interface CrdManifest {
  /** File name under crds/, in controller-gen's <group>_<plural>.yaml convention. */
  fileName: string;
  yaml: string;
}

const GENERATED_HEADER =
  '# Generated from the zod schemas in src/api/ by `npm run generate:crds` (scripts/generate-crds.ts).\n' +
  '# Do not edit: change the schemas and regenerate.\n';

export function crdManifests(): CrdManifest[] {
  return customResourceDefinitions().map((crd) => ({
    fileName: `${GROUP}_${crd.spec.names.plural}.yaml`,
    yaml: GENERATED_HEADER + dump(crd, { noRefs: true, lineWidth: 120 }),
  }));
}
