// Writes crds/*.yaml from the zod schemas in src/api/. Run with `npm run generate:crds`;
// test/api/crds.test.ts fails while the committed files differ from this output.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdManifests } from '../src/api/crd-manifests.ts';

const crdsDir = join(import.meta.dirname, '..', 'crds');
for (const { fileName, yaml } of crdManifests()) {
  writeFileSync(join(crdsDir, fileName), yaml);
  console.log(`wrote crds/${fileName}`);
}
