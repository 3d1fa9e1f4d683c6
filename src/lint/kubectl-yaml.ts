// Manifests read as kubectl reads them: YAML 1.1 (yes/no are booleans), unquoted dates kept as
// strings. `certhook lint` and `certhook run` read a file as `kubectl apply` would.
import { parseAllDocuments, type Tags } from 'yaml';

export const KUBECTL_YAML = {
  version: '1.1' as const,
  prettyErrors: false,
  customTags: (tags: Tags) => tags.filter((tag) => (typeof tag === 'string' ? tag !== 'timestamp' : tag.tag !== 'tag:yaml.org,2002:timestamp')),
};

/** Every document of a manifest file, as kubectl reads it; throws on the first YAML error. */
export function parseManifests(text: string): unknown[] {
  return parseAllDocuments(text, KUBECTL_YAML).map((doc) => {
    const [error] = doc.errors;
    if (error) throw new Error(error.message);
    // Throws on a document that expands beyond its aliases' limit (a "billion laughs").
    return doc.toJS() as unknown;
  });
}
