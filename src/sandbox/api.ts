// The sandbox's API semantics, independent of HTTP: what kube-apiserver does on create, read,
// update, patch, server-side apply, delete and watch (resourceVersion, generation, the status
// subresource, managedFields, dry runs, finalizers, garbage collection, selectors, paging,
// custom-resource schemas).
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './api-error.ts';
import { generateName, newUid } from './names.ts';
import { nameProblems } from '../api/kube-names.ts';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from './patch.ts';
import { apiVersionOf, type Registry, resourceKey, type ResourceType } from './registry.ts';
import type { KubeObject, OwnerReference, StoredEvent, Store } from './store.ts';
import { strategyFor } from './strategies.ts';
import { matchesFields, parseFieldSelector } from './field-selector.ts';
import { matchesLabels, parseLabelSelector, type Requirement } from '../kube/label-selector.ts';
import { applyDefaults, prune, validate, type JSONSchemaProps } from '../schema/structural.ts';
import { formatInvalid, statusCauses, type FieldError } from '../schema/field-error.ts';
import { crdToResourceType } from './crd-types.ts';
import { fieldTypesOf } from './field-types.ts';
import { decodeManagedFields, describeManager, encodeManagedFields, isReset, pathString, type Manager } from './managed-fields.ts';
import { applyAfterClientSide } from './last-applied.ts';
import { ApplyConflictError, ownablePaths, recordUpdate, type Writer } from './server-side-apply.ts';
import { cloneJson } from '../schema/json.ts';

export interface SelectorOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

/**
 * For a caller that only reads what it gets, at once (the HTTP server serializes it): the stored
 * objects themselves rather than copies. The store never changes an object it holds, so a copy
 * for each watcher of each event, or of each item of a list, would be work for nothing.
 */
interface ReadOnlyOption {
  readOnly?: boolean;
}

export interface ListOptions extends SelectorOptions, ReadOnlyOption {
  limit?: number;
  continue?: string;
}

export interface WatchOptions extends SelectorOptions, ReadOnlyOption {
  resourceVersion?: string;
}

const copyUnless = (readOnly: boolean | undefined) => (readOnly ? <T>(o: T) => o : <T>(o: T) => cloneJson(o));

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  /** Answer as the delete would, and change nothing (`?dryRun=All`). */
  dryRun?: boolean;
}

export type PatchType = 'merge' | 'json' | 'strategic';

export interface WriteOptions {
  /** How a write treats fields its kind's schema does not declare (`?fieldValidation=`). */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Filled with the warnings the response carries (`Warning` headers). */
  warnings?: string[];
  /** Who the write's fields are recorded as owned by in managedFields (`?fieldManager=`). */
  fieldManager?: string;
  /** Validate, default and answer, but store nothing (`?dryRun=All`). */
  dryRun?: boolean;
}

export interface ApplyOptions extends WriteOptions {
  /** Take fields other managers own instead of failing with a conflict (`?force=true`). */
  force?: boolean;
}

/**
 * What an in-process write names no manager for is recorded as: the sandbox's controllers (Jobs,
 * garbage collection, namespaces), whose real counterparts run in kube-controller-manager.
 */
const IN_PROCESS_MANAGER = 'kube-controller-manager';

/** The managers an object has after a write, given the object the write stores. */
type Ownership = (next: KubeObject) => Manager[];

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

interface ContinueToken {
  rv: number;
  after: string;
}

const CRD_KEY = resourceKey('apiextensions.k8s.io', 'customresourcedefinitions');
const NAMESPACE_KEY = resourceKey('', 'namespaces');

const sortKey = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Everything but metadata and status: what a generation change is measured on. */
function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

export class SandboxApi {
  readonly store: Store;
  readonly registry: Registry;

  constructor(store: Store, registry: Registry) {
    this.store = store;
    this.registry = registry;
    for (const ns of ['default', 'kube-system']) this.create(this.type('', 'namespaces'), undefined, { metadata: { name: ns } });
  }

  type(group: string, plural: string): ResourceType {
    const t = this.registry.get(group, plural);
    if (!t) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${plural}${group ? `.${group}` : ''})`);
    return t;
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.store.get(resourceKey(t.group, t.plural), this.scope(t, namespace), name);
    if (!obj) throw ApiError.notFound(t, name);
    return cloneJson(obj);
  }

  list(t: ResourceType, namespace: string | undefined, opts: ListOptions = {}): ListResult {
    const matches = this.matcher(t, opts);
    const scope = t.namespaced ? namespace : undefined;
    const token = opts.continue ? decodeContinue(opts.continue) : undefined;
    // Every page of a list comes from the snapshot its first page was served from.
    const rv = token?.rv ?? this.store.currentRevision;
    let items = (token ? this.store.listAt(resourceKey(t.group, t.plural), scope, rv) : this.store.list(resourceKey(t.group, t.plural), scope)).filter(matches);
    if (token) items = items.filter((o) => sortKey(o) > token.after);
    if (opts.limit && opts.limit > 0 && items.length > opts.limit) {
      const page = items.slice(0, opts.limit);
      return {
        items: page.map(copyUnless(opts.readOnly)),
        resourceVersion: String(rv),
        continue: encodeContinue({ rv, after: sortKey(page.at(-1)!) }),
        remainingItemCount: items.length - page.length,
      };
    }
    return { items: items.map(copyUnless(opts.readOnly)), resourceVersion: String(rv) };
  }

  create(t: ResourceType, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): KubeObject {
    const obj = this.checkBody(t, namespace, body);
    return this.insert(t, obj, opts, this.recordingUpdate(t, opts, undefined, obj));
  }

  private insert(t: ResourceType, obj: KubeObject, opts: WriteOptions, ownership: Ownership): KubeObject {
    const meta = obj.metadata;
    if (!meta.name) {
      if (!meta.generateName) throw this.invalid(t, '', [{ path: 'metadata.name', type: 'Required', message: 'name or generateName is required' }]);
      meta.name = generateName(meta.generateName);
    }
    this.checkName(t, meta.name);
    if (t.namespaced) this.checkNamespaceWritable(t, meta.namespace!);
    if (this.store.get(resourceKey(t.group, t.plural), meta.namespace, meta.name)) throw ApiError.alreadyExists(t, meta.name);
    for (const field of ['uid', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) delete meta[field];
    meta.uid = newUid();
    meta.creationTimestamp = now();
    if (t.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (t.definedBy && t.statusSubresource) delete obj.status;
    strategyFor(t).prepareForCreate?.(obj);
    const checked = this.admit(t, obj, undefined, opts);
    setManagedFields(checked, ownership(checked));
    if (opts.dryRun) return checked;
    const stored = this.store.put(resourceKey(t.group, t.plural), checked);
    this.afterWrite(t, stored, undefined);
    return cloneJson(stored);
  }

  update(t: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource?: 'status', opts: WriteOptions = {}): KubeObject {
    const obj = this.checkBody(t, namespace, body);
    if (obj.metadata.name !== name) {
      throw new ApiError(400, 'BadRequest', `the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    const current = this.store.get(resourceKey(t.group, t.plural), this.scope(t, namespace), name);
    if (!current) throw ApiError.notFound(t, name);
    const rv = obj.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!t.allowUnconditionalUpdate) {
        throw this.invalid(t, name, [{ path: 'metadata.resourceVersion', type: 'Invalid', value: 0, message: 'must be specified for an update' }]);
      }
    } else if (rv !== current.metadata.resourceVersion) {
      throw ApiError.conflict(t, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return this.replace(t, current, obj, subresource, opts);
  }

  patch(t: ResourceType, namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status', opts: WriteOptions = {}): KubeObject {
    const current = this.store.get(resourceKey(t.group, t.plural), this.scope(t, namespace), name);
    if (!current) throw ApiError.notFound(t, name);
    let patched: unknown;
    try {
      if (type === 'json') patched = applyJsonPatch(current, patch as never);
      else if (type === 'merge') patched = applyMergePatch(current, patch);
      else {
        if (!t.strategicMerge) throw ApiError.unsupportedMediaType('application/strategic-merge-patch+json');
        patched = applyStrategicMergePatch(current, patch, t.kind);
      }
    } catch (err) {
      if (err instanceof PatchError) throw new ApiError(err.status, err.status === 400 ? 'BadRequest' : 'Invalid', err.message);
      throw err;
    }
    const obj = this.checkBody(t, namespace, patched);
    this.checkPrecondition(t, obj, current);
    return this.replace(t, current, obj, subresource, opts);
  }

  /**
   * Server-side apply: `body` is the applier's whole configuration of the object, which is
   * created when absent. Throws a 409 naming the fields other managers own that it would change.
   */
  apply(t: ResourceType, namespace: string | undefined, name: string, body: unknown, subresource: 'status' | undefined, opts: ApplyOptions): { object: KubeObject; created: boolean } {
    const typed = body as Partial<KubeObject> | null;
    if (!typed?.apiVersion || !typed.kind) throw ApiError.badRequest('an apply configuration must set apiVersion and kind');
    const config = this.checkBody(t, namespace, body);
    if (config.metadata.name !== name) {
      throw ApiError.badRequest(`the name of the object (${config.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    if ('managedFields' in config.metadata) throw ApiError.badRequest('metadata.managedFields must be nil');
    const writer = this.writer(t, opts, subresource);
    const current = this.store.get(resourceKey(t.group, t.plural), this.scope(t, namespace), name);
    if (!current && subresource) throw ApiError.notFound(t, name);
    if (current) this.checkPrecondition(t, config, current);
    const result = applyOrConflict(() => applyAfterClientSide(current ?? {}, config, current ? storedManagers(current) : [], writer, opts.force ?? false));
    const ownership = () => result.managers;
    if (!current) return { object: this.insert(t, result.object as KubeObject, opts, ownership), created: true };
    return { object: this.replace(t, current, result.object as KubeObject, subresource, opts, ownership), created: false };
  }

  delete(t: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): KubeObject {
    const key = resourceKey(t.group, t.plural);
    const current = this.store.get(key, this.scope(t, namespace), name);
    if (!current) throw ApiError.notFound(t, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== current.metadata.uid) {
      throw ApiError.conflict(t, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
      throw ApiError.conflict(t, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
    }
    const policy = opts.propagationPolicy ?? t.defaultPropagation;
    const pending = [...(current.metadata.finalizers ?? [])];
    if (policy === 'Orphan' && !pending.includes('orphan')) pending.push('orphan');
    if (key === NAMESPACE_KEY || pending.length > 0) {
      if (current.metadata.deletionTimestamp) return cloneJson(current);
      const marked = cloneJson(current);
      marked.metadata.deletionTimestamp = now();
      marked.metadata.deletionGracePeriodSeconds = 0;
      if (policy === 'Orphan') marked.metadata.finalizers = pending;
      if (key === NAMESPACE_KEY) marked.status = { ...(marked.status as object), phase: 'Terminating' };
      if (opts.dryRun) return marked;
      const stored = this.store.put(key, marked);
      this.afterWrite(t, stored, current);
      return cloneJson(stored);
    }
    if (opts.dryRun) return cloneJson(current);
    return cloneJson(this.removeNow(t, current, policy));
  }

  /** Starts a watch; events are delivered synchronously to `emit`. Returns the stop function. */
  watch(t: ResourceType, namespace: string | undefined, opts: WatchOptions, emit: (e: WatchEvent) => void): () => void {
    const matches = this.matcher(t, opts);
    const key = resourceKey(t.group, t.plural);
    const ns = t.namespaced ? namespace : undefined;
    const inScope = (o: KubeObject) => ns === undefined || o.metadata.namespace === ns;
    const copy = copyUnless(opts.readOnly);
    const deliver = (e: StoredEvent) => {
      if (e.resource !== key || !inScope(e.object)) return;
      const now = matches(e.object);
      const before = e.previous ? matches(e.previous) : false;
      if (e.type === 'MODIFIED') {
        if (now && before) emit({ type: 'MODIFIED', object: copy(e.object) });
        else if (now) emit({ type: 'ADDED', object: copy(e.object) });
        else if (before) emit({ type: 'DELETED', object: copy(e.object) });
      } else if (now) emit({ type: e.type, object: copy(e.object) });
    };
    const rv = opts.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') {
      for (const obj of this.store.list(key, ns)) if (matches(obj)) emit({ type: 'ADDED', object: copy(obj) });
    } else {
      const from = Number(rv);
      if (!Number.isInteger(from) || from < 0) throw ApiError.badRequest(`invalid resource version: ${rv}`);
      for (const e of this.store.eventsSince(from)) deliver(e);
    }
    return this.store.subscribe(deliver);
  }

  // ---- internals ----

  private scope(t: ResourceType, namespace: string | undefined): string | undefined {
    return t.namespaced ? namespace : undefined;
  }

  private matcher(t: ResourceType, opts: SelectorOptions): (o: KubeObject) => boolean {
    let labels: Requirement[] = [];
    let fields: ReturnType<typeof parseFieldSelector> = [];
    try {
      if (opts.labelSelector) labels = parseLabelSelector(opts.labelSelector);
      if (opts.fieldSelector) {
        fields = parseFieldSelector(opts.fieldSelector, ['metadata.name', 'metadata.namespace', ...t.extraFieldSelectors]);
      }
    } catch (err) {
      throw ApiError.badRequest((err as Error).message);
    }
    return (o) => matchesLabels(labels, o.metadata.labels ?? {}) && matchesFields(fields, o);
  }

  /** Shape checks every write gets: an object, of this kind, in the URL's namespace. */
  private checkBody(t: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw ApiError.badRequest('the request body must be a JSON object');
    }
    const obj = cloneJson(body) as KubeObject;
    const apiVersion = apiVersionOf(t);
    if (obj.kind !== undefined && obj.kind !== t.kind) {
      throw ApiError.badRequest(`the kind of the object (${String(obj.kind)}) does not match the kind on the URL (${t.kind})`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
      throw ApiError.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersion})`);
    }
    obj.apiVersion = apiVersion;
    obj.kind = t.kind;
    if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = {};
    if (t.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const ns = obj.metadata.namespace ?? namespace;
      if (!ns) throw ApiError.badRequest('a namespace is required for a namespaced resource');
      obj.metadata.namespace = ns;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private checkName(t: ResourceType, name: string): void {
    const problems = nameProblems(name, t.plural === 'namespaces');
    if (problems.length) {
      throw this.invalid(t, name, problems.map((message) => ({ path: 'metadata.name', type: 'Invalid' as const, value: name, message })));
    }
  }

  private checkNamespaceWritable(t: ResourceType, namespace: string): void {
    const ns = this.store.get(NAMESPACE_KEY, undefined, namespace);
    if (!ns) throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    if (ns.metadata.deletionTimestamp) {
      throw ApiError.forbidden(`${t.plural} "${t.plural}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  private invalid(t: ResourceType, name: string, errors: FieldError[]): ApiError {
    const qualifiedKind = t.group ? `${t.kind}.${t.group}` : t.kind;
    return ApiError.invalid(t.kind, t.group, name, formatInvalid(qualifiedKind, name, errors), statusCauses(errors));
  }

  /** Schema defaults, pruning and validation (custom resources), plus the kind's own checks. */
  private admit(t: ResourceType, obj: KubeObject, old: KubeObject | undefined, opts: WriteOptions, subresource?: 'status'): KubeObject {
    let result = obj;
    const errors: FieldError[] = [];
    if (t.schema) {
      const defaulted = applyDefaults(t.schema, result);
      result = prune(t.schema, defaulted) as KubeObject;
      this.checkUnknownFields(t, unknownFields(defaulted, result, ''), opts);
      // A status write is validated against the status schema only, as apiextensions-apiserver does.
      const schema = subresource === 'status' ? statusOnlySchema(t.schema) : t.schema;
      errors.push(...validate(schema, result, old));
    }
    const strategy = strategyFor(t);
    strategy.normalize?.(result, old);
    errors.push(...(strategy.validate?.(result, old) ?? []));
    if (errors.length) throw this.invalid(t, obj.metadata.name ?? '', errors);
    return result;
  }

  /** Fields the schema pruned: an error under Strict, a warning under Warn (the API server's default). */
  private checkUnknownFields(t: ResourceType, unknown: string[], opts: WriteOptions): void {
    if (!unknown.length || opts.fieldValidation === 'Ignore') return;
    const list = unknown.map((f) => `unknown field ${JSON.stringify(f)}`);
    if (opts.fieldValidation === 'Strict') {
      throw ApiError.badRequest(`${t.kind} in version ${JSON.stringify(t.version)} cannot be handled as a ${t.kind}: strict decoding error: ${list.join(', ')}`);
    }
    opts.warnings?.push(...list);
  }

  /** The ownership of a create, update or patch: its manager takes the fields it changed. */
  private recordingUpdate(t: ResourceType, opts: WriteOptions, live: KubeObject | undefined, requested: KubeObject, subresource?: 'status'): Ownership {
    const managers = startingManagers(requested, live);
    const writer = this.writer(t, opts, subresource);
    return (next) => recordUpdate(live ?? {}, next, managers, writer);
  }

  /** A patch or apply that names a resourceVersion applies only to that version. */
  private checkPrecondition(t: ResourceType, obj: KubeObject, current: KubeObject): void {
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) {
      throw ApiError.conflict(t, current.metadata.name!, 'the object has been modified; please apply your changes to the latest version and try again');
    }
  }

  /** Who is writing: what managedFields records the write under. */
  private writer(t: ResourceType, opts: WriteOptions, subresource?: 'status'): Writer {
    return {
      manager: opts.fieldManager ?? IN_PROCESS_MANAGER,
      apiVersion: apiVersionOf(t),
      ...(subresource ? { subresource } : {}),
      types: fieldTypesOf(t),
      ownable: ownablePaths(t.statusSubresource, subresource),
      now: now(),
    };
  }

  private replace(t: ResourceType, current: KubeObject, incoming: KubeObject, subresource: 'status' | undefined, opts: WriteOptions, ownership?: Ownership): KubeObject {
    const name = current.metadata.name!;
    // A subresource's write cannot set managedFields; a main resource's may (or reset them with [{}]).
    const owners = ownership ?? this.recordingUpdate(t, opts, current, subresource ? current : incoming, subresource);
    let next: KubeObject;
    if (subresource === 'status') {
      // A status write changes status only (and, as in Kubernetes, nothing else of metadata).
      next = { ...cloneJson(current), status: incoming.status };
      if (incoming.status === undefined) delete next.status;
    } else {
      next = incoming;
      if (t.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = cloneJson(current.status);
      }
      const meta = next.metadata;
      // A uid in the body is a precondition, as the API server's store takes it.
      if (meta.uid && meta.uid !== current.metadata.uid) {
        throw ApiError.conflict(t, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (current.metadata[field] === undefined) delete meta[field];
        else (meta as Record<string, unknown>)[field] = current.metadata[field];
      }
      if (meta.namespace !== current.metadata.namespace) throw ApiError.badRequest('metadata.namespace is immutable');
      if (current.metadata.deletionTimestamp) {
        const added = (meta.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
        if (added.length) {
          throw this.invalid(t, name, [{ path: 'metadata.finalizers', type: 'Forbidden', message: `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
        }
      }
    }
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    const checked = this.admit(t, next, current, opts, subresource);
    if (t.tracksGeneration && subresource !== 'status' && !isDeepStrictEqual(specOf(checked), specOf(current))) {
      checked.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    setManagedFields(checked, owners(checked));
    if (isDeepStrictEqual(checked, current)) return cloneJson(current);
    if (opts.dryRun) return checked;
    const key = resourceKey(t.group, t.plural);
    if (checked.metadata.deletionTimestamp && !(checked.metadata.finalizers?.length)) {
      return cloneJson(this.removeNow(t, checked, 'Background'));
    }
    const stored = this.store.put(key, checked);
    this.afterWrite(t, stored, current);
    return cloneJson(stored);
  }

  /** Removes an object for good and lets the garbage collector act on its dependents. */
  private removeNow(t: ResourceType, obj: KubeObject, policy: 'Background' | 'Foreground' | 'Orphan'): KubeObject {
    const gone = this.store.remove(resourceKey(t.group, t.plural), obj);
    this.afterRemove(t, gone, policy);
    return gone;
  }

  private afterWrite(t: ResourceType, obj: KubeObject, old: KubeObject | undefined): void {
    const key = resourceKey(t.group, t.plural);
    if (key === CRD_KEY) this.syncCrd(obj);
    if (obj.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp) {
      if (key === NAMESPACE_KEY) queueMicrotask(() => this.emptyNamespace(obj.metadata.name!));
      if (obj.metadata.finalizers?.includes('orphan')) queueMicrotask(() => this.orphanDependents(t, obj));
    }
    if (!old && obj.metadata.ownerReferences?.length) queueMicrotask(() => this.collectIfOrphaned(t, obj));
  }

  private afterRemove(t: ResourceType, gone: KubeObject, policy: 'Background' | 'Foreground' | 'Orphan'): void {
    const key = resourceKey(t.group, t.plural);
    if (key === CRD_KEY) this.dropCrd(gone);
    if (policy === 'Orphan') this.releaseDependents(gone.metadata.uid!);
    else queueMicrotask(() => this.deleteDependents(gone.metadata.uid!));
  }

  private *dependentsOf(uid: string): Generator<[ResourceType, KubeObject]> {
    for (const key of this.store.resources()) {
      const [group, plural] = splitKey(key);
      const t = this.registry.get(group, plural);
      if (!t) continue;
      for (const obj of this.store.list(key)) {
        if (obj.metadata.ownerReferences?.some((r) => r.uid === uid)) yield [t, obj];
      }
    }
  }

  private ownerExists(ref: OwnerReference, namespace: string | undefined): boolean {
    const [group] = ref.apiVersion.includes('/') ? ref.apiVersion.split('/') : [''];
    const t = this.registry.byKind(ref.apiVersion, ref.kind) ?? this.registry.all().find((x) => x.group === group && x.kind === ref.kind);
    if (!t) return false;
    const owner = this.store.get(resourceKey(t.group, t.plural), t.namespaced ? namespace : undefined, ref.name);
    return owner?.metadata.uid === ref.uid;
  }

  /** Background propagation: a dependent goes once none of its owners remain. */
  private deleteDependents(uid: string): void {
    for (const [t, obj] of [...this.dependentsOf(uid)]) this.collectIfOrphaned(t, obj);
  }

  private collectIfOrphaned(t: ResourceType, obj: KubeObject): void {
    const current = this.store.get(resourceKey(t.group, t.plural), obj.metadata.namespace, obj.metadata.name!);
    if (!current || current.metadata.uid !== obj.metadata.uid) return;
    const refs = current.metadata.ownerReferences ?? [];
    const living = refs.filter((r) => this.ownerExists(r, current.metadata.namespace));
    if (living.length === refs.length) return;
    try {
      if (living.length === 0) this.delete(t, current.metadata.namespace, current.metadata.name!, { propagationPolicy: 'Background' });
      else this.patch(t, current.metadata.namespace, current.metadata.name!, 'merge', { metadata: { ownerReferences: living } });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  private releaseDependents(uid: string): void {
    for (const [t, obj] of [...this.dependentsOf(uid)]) {
      const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      this.patch(t, obj.metadata.namespace, obj.metadata.name!, 'merge', { metadata: { ownerReferences: refs.length ? refs : null } });
    }
  }

  /** The garbage collector's part of an orphaning delete: release dependents, then drop the finalizer. */
  private orphanDependents(t: ResourceType, owner: KubeObject): void {
    this.releaseDependents(owner.metadata.uid!);
    const current = this.store.get(resourceKey(t.group, t.plural), owner.metadata.namespace, owner.metadata.name!);
    if (!current || current.metadata.uid !== owner.metadata.uid) return;
    const finalizers = (current.metadata.finalizers ?? []).filter((f) => f !== 'orphan');
    this.patch(t, current.metadata.namespace, current.metadata.name!, 'merge', { metadata: { finalizers: finalizers.length ? finalizers : null } });
  }

  /** The namespace controller: delete everything in a terminating namespace, then the namespace. */
  private emptyNamespace(namespace: string): void {
    for (const t of this.registry.all()) {
      if (!t.namespaced) continue;
      for (const obj of this.store.list(resourceKey(t.group, t.plural), namespace)) {
        if (!obj.metadata.deletionTimestamp) this.delete(t, namespace, obj.metadata.name!, { propagationPolicy: 'Background' });
      }
    }
    const remaining = this.registry.all().some((t) => t.namespaced && this.store.list(resourceKey(t.group, t.plural), namespace).length > 0);
    const ns = this.store.get(NAMESPACE_KEY, undefined, namespace);
    if (!ns) return;
    if (remaining) {
      setTimeout(() => this.emptyNamespace(namespace), 50).unref();
      return;
    }
    this.removeNow(this.type('', 'namespaces'), ns, 'Background');
  }

  private syncCrd(crd: KubeObject): void {
    const t = crdToResourceType(crd);
    if (!t) return;
    const existing = this.registry.get(t.group, t.plural);
    if (existing && existing.definedBy !== t.definedBy) return;
    this.registry.add(t);
    const status = crd.status as { conditions?: unknown[] } | undefined;
    if (!status?.conditions?.length && !crd.metadata.deletionTimestamp) {
      queueMicrotask(() => this.markCrdEstablished(crd.metadata.name!));
    }
    if (crd.metadata.deletionTimestamp) queueMicrotask(() => this.dropCrd(crd));
  }

  private markCrdEstablished(name: string): void {
    const crdType = this.type('apiextensions.k8s.io', 'customresourcedefinitions');
    const crd = this.store.get(CRD_KEY, undefined, name);
    if (!crd) return;
    const spec = crd.spec as { names: Record<string, unknown> };
    const at = now();
    this.update(crdType, undefined, name, {
      ...crd,
      status: {
        acceptedNames: spec.names,
        storedVersions: ((crd.spec as { versions?: { name: string; storage?: boolean }[] }).versions ?? []).filter((v) => v.storage).map((v) => v.name),
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: at },
          { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: at },
        ],
      },
    }, 'status', { fieldManager: 'kube-apiserver' });
  }

  /** Deleting a CRD deletes its custom resources and then stops serving the kind. */
  private dropCrd(crd: KubeObject): void {
    const t = crdToResourceType(crd);
    if (!t || this.registry.get(t.group, t.plural)?.definedBy !== t.definedBy) return;
    for (const obj of this.store.list(resourceKey(t.group, t.plural))) this.removeNow(t, obj, 'Background');
    if (!this.store.get(CRD_KEY, undefined, crd.metadata.name!)) this.registry.remove(t.group, t.plural);
  }
}

/**
 * The managers a write starts from: those the request sets, if it sets any it may ([{}] clears
 * them), else the stored object's — so a client unaware of managedFields cannot drop them.
 */
function startingManagers(incoming: KubeObject, live: KubeObject | undefined): Manager[] {
  const requested = managedFieldsOf(incoming);
  if (isReset(requested)) return [];
  const decoded = decodeOrNone(requested);
  return decoded?.length ? decoded : live ? storedManagers(live) : [];
}

const managedFieldsOf = (obj: KubeObject): unknown => (obj.metadata as Record<string, unknown>).managedFields;

const storedManagers = (obj: KubeObject): Manager[] => decodeOrNone(managedFieldsOf(obj)) ?? [];

function decodeOrNone(entries: unknown): Manager[] | undefined {
  try {
    return decodeManagedFields(entries);
  } catch {
    return undefined;
  }
}

function setManagedFields(obj: KubeObject, managers: Manager[]): void {
  const meta = obj.metadata as Record<string, unknown>;
  const entries = encodeManagedFields(managers);
  if (entries.length) meta.managedFields = entries;
  else delete meta.managedFields;
}

function applyOrConflict<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof ApplyConflictError)) throw err;
    const causes = err.conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${describeManager(c.manager)}`, field: pathString(c.path) }));
    throw new ApiError(409, 'Conflict', err.message, { causes });
  }
}

function statusOnlySchema(schema: JSONSchemaProps): JSONSchemaProps {
  const status = schema.properties?.status;
  return { type: 'object', ...(status ? { properties: { status } } : {}) };
}

/** Paths (`spec.extra`) present in `before` and gone from `after`: what pruning dropped. */
function unknownFields(before: unknown, after: unknown, path: string): string[] {
  if (Array.isArray(before) && Array.isArray(after)) {
    return before.flatMap((item, i) => unknownFields(item, after[i], `${path}[${i}]`));
  }
  if (!isPlainObject(before) || !isPlainObject(after)) return [];
  return Object.keys(before).flatMap((key) => {
    const child = path ? `${path}.${key}` : key;
    return key in after ? unknownFields(before[key], after[key], child) : [child];
  });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(value: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(value, 'base64url').toString()) as ContinueToken;
    if (typeof token.rv === 'number' && typeof token.after === 'string') return token;
  } catch {
    // fall through to the error below
  }
  throw ApiError.badRequest('continue key is not valid: incorrect encoded start resourceVersion');
}
