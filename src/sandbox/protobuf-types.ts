// The Kubernetes protobuf messages the sandbox decodes, copied (names and field numbers) from
// k8s.io/apimachinery/pkg/runtime/generated.proto, k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
// and k8s.io/api/core/v1/generated.proto. Only what kubectl's typed `create` commands send is here;
// fields left out (ObjectMeta.selfLink, managedFields, deletionGracePeriodSeconds) are skipped on decode.
import protobuf from 'protobufjs';

const RUNTIME = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.runtime;

message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}

message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}
`;

const META_V1 = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;

message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}

message OwnerReference {
  optional string apiVersion = 5;
  optional string kind = 1;
  optional string name = 3;
  optional string uid = 4;
  optional bool controller = 6;
  optional bool blockOwnerDeletion = 7;
}

message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9;
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
}
`;

const CORE_V1 = `
syntax = "proto2";
package k8s.io.api.core.v1;

message LocalObjectReference {
  optional string name = 1;
}

message ObjectReference {
  optional string kind = 1;
  optional string namespace = 2;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional string resourceVersion = 6;
  optional string fieldPath = 7;
}

message NamespaceSpec {
  repeated string finalizers = 1;
}

message NamespaceCondition {
  optional string type = 1;
  optional string status = 2;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}

message NamespaceStatus {
  optional string phase = 1;
  repeated NamespaceCondition conditions = 2;
}

message Namespace {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional NamespaceSpec spec = 2;
  optional NamespaceStatus status = 3;
}

message Secret {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 5;
  map<string, bytes> data = 2;
  map<string, string> stringData = 4;
  optional string type = 3;
}

message ConfigMap {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 4;
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
}

message ServiceAccount {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4;
}
`;

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const source of [RUNTIME, META_V1, CORE_V1]) protobuf.parse(source, root, { keepCase: true });
  root.resolveAll();
  return root;
}

const root = buildRoot();

/** The runtime.Unknown envelope every Kubernetes protobuf body is wrapped in. */
export const UNKNOWN = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');

/** metav1.Time: its JSON form is an RFC 3339 string, not a message. */
export const TIME = root.lookupType('k8s.io.apimachinery.pkg.apis.meta.v1.Time');

/** The object messages by `apiVersion` and `kind`. */
export const OBJECT_TYPES: Readonly<Record<string, Readonly<Record<string, protobuf.Type>>>> = {
  v1: Object.fromEntries(
    ['Namespace', 'Secret', 'ConfigMap', 'ServiceAccount'].map((kind) => [kind, root.lookupType(`k8s.io.api.core.v1.${kind}`)]),
  ),
};
