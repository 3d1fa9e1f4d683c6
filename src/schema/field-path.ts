// A location inside a resource, kept in both spellings the apiserver uses: kube-openapi's schema
// errors name a map entry `labels.app`, field.Path (list types, CEL rules) names it `labels[app]`.

export interface FieldPath {
  /** kube-openapi spelling, used by OpenAPI value validation errors and their messages. */
  readonly openapi: string;
  /** field.Path spelling, used by list-type and CEL rule errors. */
  readonly field: string;
}

export const ROOT: FieldPath = { openapi: '', field: '' };

export function childPath(path: FieldPath, name: string): FieldPath {
  return { openapi: join(path.openapi, name), field: join(path.field, name) };
}

export function indexPath(path: FieldPath, index: number): FieldPath {
  return { openapi: `${path.openapi}[${index}]`, field: `${path.field}[${index}]` };
}

export function keyPath(path: FieldPath, key: string): FieldPath {
  return { openapi: join(path.openapi, key), field: `${path.field}[${key}]` };
}

function join(base: string, name: string): string {
  return base === '' ? name : `${base}.${name}`;
}
