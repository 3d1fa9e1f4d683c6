// The sandbox's HTTP face: Kubernetes REST paths, content negotiation (JSON, Table), watch
// streams, pod logs, discovery, and the fault injection tests drive.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError } from './api-error.ts';
import { parse as parseYaml } from 'yaml';
import type { DeleteOptions, PatchType, SandboxApi, WatchEvent, WriteOptions } from './api.ts';
import { coreVersions, group, groupList, resourceList, VERSION_INFO } from './discovery.ts';
import type { Faults, OpenWatch, Verb } from './faults.ts';
import { openApiDocument, openApiRoot } from './openapi.ts';
import type { PodLogs } from './pod-logs.ts';
import { decodeKubernetesProtobuf, PROTOBUF_CONTENT_TYPE, PROTOBUF_KINDS, ProtobufError } from './protobuf.ts';
import { apiVersionOf, type ResourceType } from './registry.ts';
import type { KubeObject } from './store.ts';
import { parseIncludeObject } from './table.ts';
import { renderTable, type IncludeObject } from './table-view.ts';
import { dryRunOf, writeOptions } from './request-options.ts';

export interface HttpOptions {
  /** How often a watch that allows bookmarks gets one. */
  bookmarkIntervalMs: number;
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

const PATCH_TYPES: Record<string, PatchType | 'apply'> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

const DEFAULT_WATCH_TIMEOUT_SECONDS = 1800;

export function createSandboxServer(api: SandboxApi, faults: Faults, logs: PodLogs, opts: HttpOptions): Server {
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname.replace(/\/+$/, '');
    const discovery = discoveryDocument(path);
    if (discovery !== undefined) {
      if (discovery === null) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return sendJson(res, 200, discovery);
    }
    const route = parseRoute(path);
    const verb = verbOf(req.method ?? 'GET', route, url);
    const { failure, delayMs } = faults.onRequest(verb, route.subresource ? `${route.type.plural}/${route.subresource}` : route.type.plural);
    if (delayMs > 0) await delay(delayMs);
    // A write delayed past its client's patience still happens, as on a real server; a watch whose
    // client left meanwhile is never opened (nothing would ever close it).
    if (verb === 'watch' && (res.destroyed || req.socket.destroyed)) return;
    if (failure) {
      if (failure.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(failure.retryAfterSeconds));
      throw injectedError(failure.status, route, failure.retryAfterSeconds);
    }
    const { type: t, namespace, name, subresource } = route;
    const userAgent = req.headers['user-agent'];
    if (subresource && !(subresource === 'status' && t.statusSubresource) && !(subresource === 'log' && t.plural === 'pods' && t.group === '')) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    switch (verb) {
      case 'get': {
        if (subresource === 'log') return sendLog(req, res, url, namespace!, name!);
        return sendObjects(req, res, url, t, [api.get(t, namespace, name!)]);
      }
      case 'list': {
        const result = api.list(t, namespace, {
          readOnly: true,
          ...selectors(url),
          ...(url.searchParams.has('limit') ? { limit: Number(url.searchParams.get('limit')) } : {}),
          ...(url.searchParams.get('continue') ? { continue: url.searchParams.get('continue')! } : {}),
        });
        if (wantsTable(req)) {
          return sendJson(res, 200, renderTable(t, result.items, { includeObject: includeObject(url), resourceVersion: result.resourceVersion, ...(result.continue ? { continue: result.continue } : {}) }));
        }
        return sendJson(res, 200, {
          kind: t.listKind,
          apiVersion: apiVersionOf(t),
          metadata: {
            resourceVersion: result.resourceVersion,
            ...(result.continue ? { continue: result.continue, remainingItemCount: result.remainingItemCount } : {}),
          },
          items: result.items,
        });
      }
      case 'watch':
        return streamWatch(req, res, url, t, namespace);
      case 'create': {
        const write = writeOptions('CreateOptions', url, userAgent);
        const body = await readObject(req);
        return sendWritten(res, write, (o) => [201, api.create(t, namespace, body, o)]);
      }
      case 'update': {
        const write = writeOptions('UpdateOptions', url, userAgent);
        const body = await readObject(req);
        return sendWritten(res, write, (o) => [200, api.update(t, namespace, name!, body, statusOnly(subresource), o)]);
      }
      case 'patch': {
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const patchType = PATCH_TYPES[contentType];
        if (!patchType) throw ApiError.unsupportedMediaType(contentType);
        const write = writeOptions('PatchOptions', url, userAgent, patchType === 'apply');
        const body = await readObject(req);
        if (patchType === 'apply') {
          return sendWritten(res, write, (o) => {
            const { object, created } = api.apply(t, namespace, name!, body, statusOnly(subresource), o);
            return [created ? 201 : 200, object];
          });
        }
        return sendWritten(res, write, (o) => [200, api.patch(t, namespace, name!, patchType, body, statusOnly(subresource), o)]);
      }
      case 'delete':
        return sendJson(res, 200, api.delete(t, namespace, name!, await deleteOptions(req, url)));
      case 'deletecollection': {
        const options = await deleteOptions(req, url);
        const { items } = api.list(t, namespace, selectors(url));
        for (const item of items) api.delete(t, item.metadata.namespace, item.metadata.name!, options);
        return sendJson(res, 200, { kind: t.listKind, apiVersion: apiVersionOf(t), metadata: {}, items });
      }
    }
  }

  function discoveryDocument(path: string): object | null | undefined {
    if (path === '/version') return VERSION_INFO;
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return { status: 'ok' };
    if (path === '/api') return coreVersions();
    if (path === '/api/v1') return resourceList(api.registry, '', 'v1') ?? null;
    if (path === '/apis') return groupList(api.registry);
    if (path === '/openapi/v3') return openApiRoot(api.registry);
    if (path.startsWith('/openapi/')) return openApiDocument(api.registry, path) ?? null;
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    return (m[2] ? resourceList(api.registry, m[1]!, m[2]) : group(api.registry, m[1]!)) ?? null;
  }

  function parseRoute(path: string): Route {
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(path);
    if (!m) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const groupName = m[2] ?? '';
    const version = m[1] ?? m[3]!;
    const parts = m[4]!.split('/').map(decodeURIComponent);
    const find = (plural: string) => {
      const t = api.registry.lookup(groupName, version, plural);
      if (!t) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${plural}${groupName ? `.${groupName}` : ''})`);
      return t;
    };
    if (parts[0] === 'namespaces' && parts.length >= 3 && parts[2] !== 'status' && parts[2] !== 'finalize') {
      const t = find(parts[2]!);
      if (!t.namespaced) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return { type: t, namespace: parts[1], name: parts[3], subresource: parts[4] };
    }
    const t = find(parts[0]!);
    return { type: t, namespace: undefined, name: parts[1], subresource: parts[2] };
  }

  function streamWatch(req: IncomingMessage, res: ServerResponse, url: URL, t: ResourceType, namespace: string | undefined): void {
    const table = wantsTable(req);
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? DEFAULT_WATCH_TIMEOUT_SECONDS);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache' });
    res.flushHeaders();
    let silent = false;
    let closed = false;
    const timers: NodeJS.Timeout[] = [];
    const write = (event: object) => {
      if (!silent && !closed) res.write(`${JSON.stringify(event)}\n`);
    };
    const encode = (e: WatchEvent) =>
      table
        ? { type: e.type, object: renderTable(t, [e.object], { includeObject: includeObject(url) }) }
        : e;
    let stop = () => {};
    const close = () => {
      if (closed) return;
      closed = true;
      stop();
      for (const timer of timers) clearTimeout(timer);
      faults.watchClosed(handle);
      res.end();
    };
    const handle: OpenWatch = {
      drop: () => {
        // An abrupt end, as a dying API server or proxy gives: no final chunk.
        closed = true;
        stop();
        for (const timer of timers) clearTimeout(timer);
        faults.watchClosed(handle);
        res.socket?.destroy();
      },
      silence: () => {
        silent = true;
      },
    };
    silent = faults.watchOpened(handle);
    try {
      stop = api.watch(t, namespace, { readOnly: true, ...selectors(url), ...(url.searchParams.has('resourceVersion') ? { resourceVersion: url.searchParams.get('resourceVersion')! } : {}) }, (e) => write(encode(e)));
    } catch (err) {
      write({ type: 'ERROR', object: toApiError(err).toStatus() });
      close();
      return;
    }
    if (bookmarks) {
      const tick = () => {
        write({ type: 'BOOKMARK', object: { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(api.store.currentRevision) } } });
        timers[0] = setTimeout(tick, opts.bookmarkIntervalMs);
      };
      timers[0] = setTimeout(tick, opts.bookmarkIntervalMs);
    }
    timers.push(setTimeout(close, timeoutSeconds * 1000));
    req.on('close', close);
    res.on('close', close);
  }

  function sendLog(req: IncomingMessage, res: ServerResponse, url: URL, namespace: string, pod: string): void {
    api.get(api.type('', 'pods'), namespace, pod);
    const num = (k: string) => (url.searchParams.has(k) ? Number(url.searchParams.get(k)) : undefined);
    const tailLines = num('tailLines');
    const limitBytes = num('limitBytes');
    const text = logs.read(namespace, pod, { ...(tailLines !== undefined ? { tailLines } : {}), ...(limitBytes !== undefined ? { limitBytes } : {}) });
    const follow = url.searchParams.get('follow') === 'true' && !logs.isFinished(namespace, pod);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(text);
    if (!follow) {
      res.end();
      return;
    }
    const stop = logs.follow(namespace, pod, (chunk) => {
      if (chunk) res.write(chunk);
      else {
        stop();
        res.end();
      }
    });
    req.on('close', stop);
  }

  function sendObjects(req: IncomingMessage, res: ServerResponse, url: URL, t: ResourceType, objects: KubeObject[]): void {
    if (wantsTable(req)) return sendJson(res, 200, renderTable(t, objects, { includeObject: includeObject(url) }));
    sendJson(res, 200, objects[0]);
  }

  return server;
}

function verbOf(method: string, route: Route, url: URL): Verb {
  const watch = url.searchParams.get('watch');
  switch (method) {
    case 'GET':
      if (route.name !== undefined) return 'get';
      return watch === 'true' || watch === '1' ? 'watch' : 'list';
    case 'POST':
      if (route.name !== undefined) throw ApiError.methodNotAllowed('the server does not allow this method on the requested resource');
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return route.name !== undefined ? 'delete' : 'deletecollection';
    default:
      throw ApiError.methodNotAllowed(`the server does not allow this method on the requested resource (${method})`);
  }
}

function injectedError(status: number, route: Route, retryAfterSeconds: number | undefined): ApiError {
  switch (status) {
    case 409:
      return ApiError.conflict(route.type, route.name ?? '', 'the object has been modified; please apply your changes to the latest version and try again');
    case 429:
      return new ApiError(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined);
    case 503:
      return new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    case 504:
      return new ApiError(504, 'Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request');
    default:
      return new ApiError(500, 'InternalError', 'Internal error occurred: injected fault');
  }
}

/** Answers a write, with a `Warning` header for each warning it produced. */
function sendWritten<O extends WriteOptions>(res: ServerResponse, opts: O, write: (o: O) => [number, KubeObject]): void {
  const warnings: string[] = [];
  const [code, result] = write({ ...opts, warnings });
  if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
  sendJson(res, code, result);
}

const statusOnly = (subresource: string | undefined) => (subresource === 'status' ? 'status' : undefined);

function selectors(url: URL) {
  const labelSelector = url.searchParams.get('labelSelector');
  const fieldSelector = url.searchParams.get('fieldSelector');
  return { ...(labelSelector ? { labelSelector } : {}), ...(fieldSelector ? { fieldSelector } : {}) };
}

function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  // The first acceptable media type wins; kubectl lists Table first when it wants one.
  const first = accept.split(',')[0] ?? '';
  return /as=Table/.test(first) && /g=meta\.k8s\.io/.test(first);
}

function includeObject(url: URL): IncludeObject {
  try {
    return parseIncludeObject(url.searchParams.get('includeObject'));
  } catch (err) {
    throw ApiError.badRequest((err as Error).message);
  }
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString('utf8');
}

async function readObject(req: IncomingMessage): Promise<unknown> {
  const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim();
  // kubectl's typed `create` commands send protobuf and never fall back to JSON.
  if (contentType === PROTOBUF_CONTENT_TYPE) return decodeProtobuf(await readBytes(req));
  // Otherwise JSON or YAML: clients that try CBOR first fall back to JSON on a 415.
  const yaml = contentType.endsWith('yaml');
  if (contentType !== 'application/json' && !contentType.endsWith('+json') && !yaml) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json (got ${contentType})`);
  }
  const text = await readBody(req);
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw ApiError.badRequest(`the request body is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
}

function decodeProtobuf(body: Buffer): unknown {
  try {
    return decodeKubernetesProtobuf(body);
  } catch (err) {
    if (!(err instanceof ProtobufError)) throw err;
    throw new ApiError(415, 'UnsupportedMediaType', `${err.message}: the sandbox accepts protobuf bodies only for ${PROTOBUF_KINDS.join(', ')}; for other objects use \`kubectl apply -f\` with YAML`);
  }
}

async function deleteOptions(req: IncomingMessage, url: URL): Promise<DeleteOptions> {
  const text = await readBody(req);
  let body: DeleteOptions = {};
  if (text.trim()) {
    try {
      body = JSON.parse(text) as DeleteOptions;
    } catch (err) {
      throw ApiError.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const policy = url.searchParams.get('propagationPolicy');
  if (policy === 'Background' || policy === 'Foreground' || policy === 'Orphan') body.propagationPolicy = policy;
  else if (policy) throw ApiError.badRequest(`invalid propagationPolicy: ${policy}`);
  const dryRun = dryRunOf('DeleteOptions', url, (body as { dryRun?: unknown }).dryRun);
  return { ...body, dryRun };
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
}

function sendError(res: ServerResponse, err: unknown): void {
  // The client went away (it timed out, say): there is no one to answer. (A request whose body
  // was read is destroyed by then too, so the socket is what tells.)
  if (res.destroyed || !res.socket || res.socket.destroyed) return;
  const apiError = toApiError(err);
  if (apiError.code === 500 && !(err instanceof ApiError)) console.error(err);
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, apiError.code, apiError.toStatus());
}
