// Decodes Kubernetes protobuf request bodies into the JSON objects the sandbox stores. kubectl's
// typed `create` commands (namespace, secret, configmap, serviceaccount, job) send only protobuf.
import protobuf from 'protobufjs';
import { INLINE_FIELDS, OBJECT_TYPES, QUANTITY, TIME, UNKNOWN } from './protobuf-types.ts';
import { timestamp } from './timestamps.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** Every protobuf body starts with this, before the runtime.Unknown envelope. */
const MAGIC = Buffer.from('k8s\0', 'latin1');

/** The objects this decoder knows, as `apiVersion Kind`. */
export const PROTOBUF_KINDS: readonly string[] = Object.entries(OBJECT_TYPES).flatMap(([apiVersion, kinds]) =>
  Object.keys(kinds).map((kind) => `${apiVersion} ${kind}`),
);

export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
}

type Json = Record<string, unknown>;

interface Envelope {
  typeMeta?: { apiVersion?: string; kind?: string };
  raw?: Uint8Array;
  contentEncoding?: string;
  contentType?: string;
}

export function decodeKubernetesProtobuf(body: Buffer): Json {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufError('the body does not start with the Kubernetes protobuf prefix "k8s\\0"');
  }
  const envelope = decode(UNKNOWN, body.subarray(MAGIC.length), 'runtime.Unknown envelope') as Envelope;
  if (envelope.contentEncoding) throw new ProtobufError(`content encoding "${envelope.contentEncoding}" is not supported`);
  if (envelope.contentType && envelope.contentType !== PROTOBUF_CONTENT_TYPE) {
    throw new ProtobufError(`the envelope holds "${envelope.contentType}", not protobuf`);
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  if (!apiVersion || !kind) throw new ProtobufError('the envelope names no apiVersion and kind');
  const type = OBJECT_TYPES[apiVersion]?.[kind];
  if (!type) throw new ProtobufError(`cannot decode ${apiVersion} ${kind} from protobuf`);
  const object = decode(type, envelope.raw ?? new Uint8Array(), `${apiVersion} ${kind}`, { longs: Number, bytes: String });
  return { apiVersion, kind, ...messageJson(type, object) };
}

function decode(type: protobuf.Type, bytes: Uint8Array, what: string, options: protobuf.IConversionOptions = {}): Json {
  try {
    return type.toObject(type.decode(bytes), options);
  } catch (err) {
    throw new ProtobufError(`malformed ${what}: ${(err as Error).message}`);
  }
}

// Go's generated marshaller writes every non-pointer field, zero or not, and its JSON omits zero
// values (omitempty); so an empty string, a zero or false here means unset — unless the field is a
// pointer in Go (marked `(pointer)`), which is on the wire only when set.
function messageJson(type: protobuf.Type, message: Json): Json {
  const out: Json = {};
  for (const field of type.fieldsArray) {
    const value = fieldJson(field, message[field.name]);
    if (value === undefined) continue;
    if (INLINE_FIELDS.has(field.name)) Object.assign(out, value);
    else out[field.name] = value;
  }
  return out;
}

function fieldJson(field: protobuf.Field, value: unknown): unknown {
  if (value === undefined) return undefined;
  const nested = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
  const json = (item: unknown) => (nested ? nestedJson(nested, item as Json) : item);
  if (field.map) {
    const entries = Object.entries(value as Json);
    return entries.length ? Object.fromEntries(entries.map(([k, v]) => [k, json(v)])) : undefined;
  }
  if (field.repeated) {
    const items = value as unknown[];
    return items.length ? items.map(json) : undefined;
  }
  if (nested) return nestedJson(nested, value as Json);
  if (field.options?.['(pointer)']) return value;
  return value === '' || value === 0 || value === false ? undefined : value;
}

function nestedJson(type: protobuf.Type, message: Json): unknown {
  // Go writes a zero Time as an empty message; Kubernetes keeps whole seconds only.
  if (type === TIME) return typeof message.seconds === 'number' ? timestamp(new Date(message.seconds * 1000)) : undefined;
  if (type === QUANTITY) return message.string;
  return messageJson(type, message);
}
