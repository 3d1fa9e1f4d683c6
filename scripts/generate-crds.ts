// Writes the CRDs generated from the zod schemas in src/api/ to crds/ and to the Helm chart's
// files/crds/ (which its templates/crds.yaml renders, so that `helm upgrade` upgrades them). Run
// with `npm run generate:crds`; test/api/crds.test.ts fails while the committed files differ from this output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdManifests } from '../src/api/crd-manifests.ts';

const root = join(import.meta.dirname, '..');
for (const dir of ['crds', 'helm/certhook/files/crds']) {
  mkdirSync(join(root, dir), { recursive: true });
  for (const { fileName, yaml } of crdManifests()) {
    writeFileSync(join(root, dir, fileName), yaml);
    console.log(`wrote ${dir}/${fileName}`);
  }
}
