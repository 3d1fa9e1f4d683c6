// `certhook crds`: print the CustomResourceDefinitions (the same YAML as crds/).
import { crdManifests } from '../api/crd-manifests.ts';
import { parseOptions } from './usage.ts';

const HELP = `usage: certhook crds

Prints certhook's CustomResourceDefinitions as YAML, ready for kubectl apply -f -.`;

export async function runCrds(args: string[]): Promise<number> {
  if (!parseOptions(args, {}, HELP)) return 0;
  process.stdout.write(crdManifests().map((m) => m.yaml).join('---\n'));
  return 0;
}
