// The Kubernetes protobuf messages the sandbox decodes, copied (names and field numbers) from
// k8s.io/apimachinery's runtime, apis/meta/v1 and api/resource generated.proto and k8s.io/api's
// core/v1 and batch/v1 generated.proto. Only what kubectl's typed `create` commands send is here;
// fields left out (ObjectMeta.selfLink, managedFields, deletionGracePeriodSeconds; a PodSpec's
// affinity, probes, lifecycle and other fields the sandbox does not act on) are skipped on decode.
// `[(pointer) = true]` is ours: it marks a field Go declares as a pointer, which is on the wire
// only when set, so its zero value (0, "", false) is kept.
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
  optional bool controller = 6 [(pointer) = true];
  optional bool blockOwnerDeletion = 7 [(pointer) = true];
}

message LabelSelector {
  map<string, string> matchLabels = 1;
  repeated LabelSelectorRequirement matchExpressions = 2;
}

message LabelSelectorRequirement {
  optional string key = 1;
  optional string operator = 2;
  repeated string values = 3;
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

const RESOURCE = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.api.resource;

message Quantity {
  optional string string = 1;
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
  optional bool immutable = 5 [(pointer) = true];
  map<string, bytes> data = 2;
  map<string, string> stringData = 4;
  optional string type = 3;
}

message ConfigMap {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 4 [(pointer) = true];
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
}

message ServiceAccount {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4 [(pointer) = true];
}

message PodTemplateSpec {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
}

message PodSpec {
  repeated Volume volumes = 1;
  repeated Container initContainers = 20;
  repeated Container containers = 2;
  optional string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4 [(pointer) = true];
  optional int64 activeDeadlineSeconds = 5 [(pointer) = true];
  optional string dnsPolicy = 6;
  map<string, string> nodeSelector = 7;
  optional string serviceAccountName = 8;
  optional string serviceAccount = 9;
  optional bool automountServiceAccountToken = 21 [(pointer) = true];
  optional string nodeName = 10;
  optional bool hostNetwork = 11;
  optional bool hostPID = 12;
  optional bool hostIPC = 13;
  optional bool shareProcessNamespace = 27 [(pointer) = true];
  optional PodSecurityContext securityContext = 14;
  repeated LocalObjectReference imagePullSecrets = 15;
  optional string hostname = 16;
  optional string subdomain = 17;
  optional string schedulerName = 19;
  repeated Toleration tolerations = 22;
  repeated HostAlias hostAliases = 23;
  optional string priorityClassName = 24;
  optional int32 priority = 25 [(pointer) = true];
  optional string runtimeClassName = 29 [(pointer) = true];
  optional bool enableServiceLinks = 30 [(pointer) = true];
  optional string preemptionPolicy = 31 [(pointer) = true];
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> overhead = 32;
  optional bool setHostnameAsFQDN = 35 [(pointer) = true];
  optional bool hostUsers = 37 [(pointer) = true];
  optional ResourceRequirements resources = 40;
  optional string hostnameOverride = 41 [(pointer) = true];
}

message Container {
  optional string name = 1;
  optional string image = 2;
  repeated string command = 3;
  repeated string args = 4;
  optional string workingDir = 5;
  repeated ContainerPort ports = 6;
  repeated EnvFromSource envFrom = 19;
  repeated EnvVar env = 7;
  optional ResourceRequirements resources = 8;
  repeated ContainerResizePolicy resizePolicy = 23;
  optional string restartPolicy = 24 [(pointer) = true];
  repeated VolumeMount volumeMounts = 9;
  optional string terminationMessagePath = 13;
  optional string terminationMessagePolicy = 20;
  optional string imagePullPolicy = 14;
  optional SecurityContext securityContext = 15;
  optional bool stdin = 16;
  optional bool stdinOnce = 17;
  optional bool tty = 18;
}

message ContainerPort {
  optional string name = 1;
  optional int32 hostPort = 2;
  optional int32 containerPort = 3;
  optional string protocol = 4;
  optional string hostIP = 5;
}

message ContainerResizePolicy {
  optional string resourceName = 1;
  optional string restartPolicy = 2;
}

message EnvVar {
  optional string name = 1;
  optional string value = 2;
  optional EnvVarSource valueFrom = 3;
}

message EnvVarSource {
  optional ObjectFieldSelector fieldRef = 1;
  optional ResourceFieldSelector resourceFieldRef = 2;
  optional ConfigMapKeySelector configMapKeyRef = 3;
  optional SecretKeySelector secretKeyRef = 4;
  optional FileKeySelector fileKeyRef = 5;
}

message ObjectFieldSelector {
  optional string apiVersion = 1;
  optional string fieldPath = 2;
}

message ResourceFieldSelector {
  optional string containerName = 1;
  optional string resource = 2;
  optional k8s.io.apimachinery.pkg.api.resource.Quantity divisor = 3;
}

message ConfigMapKeySelector {
  optional LocalObjectReference localObjectReference = 1;
  optional string key = 2;
  optional bool optional = 3 [(pointer) = true];
}

message SecretKeySelector {
  optional LocalObjectReference localObjectReference = 1;
  optional string key = 2;
  optional bool optional = 3 [(pointer) = true];
}

message FileKeySelector {
  optional string volumeName = 1;
  optional string path = 2;
  optional string key = 3;
  optional bool optional = 4 [(pointer) = true];
}

message EnvFromSource {
  optional string prefix = 1;
  optional ConfigMapEnvSource configMapRef = 2;
  optional SecretEnvSource secretRef = 3;
}

message ConfigMapEnvSource {
  optional LocalObjectReference localObjectReference = 1;
  optional bool optional = 2 [(pointer) = true];
}

message SecretEnvSource {
  optional LocalObjectReference localObjectReference = 1;
  optional bool optional = 2 [(pointer) = true];
}

message VolumeMount {
  optional string name = 1;
  optional bool readOnly = 2;
  optional string recursiveReadOnly = 7 [(pointer) = true];
  optional string mountPath = 3;
  optional string subPath = 4;
  optional string mountPropagation = 5 [(pointer) = true];
  optional string subPathExpr = 6;
}

message Volume {
  optional string name = 1;
  optional VolumeSource volumeSource = 2;
}

// The sources the sandbox's kubelet does not mount decode as an empty object, so that it says so.
message UnsupportedVolumeSource {
}

message VolumeSource {
  optional UnsupportedVolumeSource hostPath = 1;
  optional EmptyDirVolumeSource emptyDir = 2;
  optional UnsupportedVolumeSource gcePersistentDisk = 3;
  optional UnsupportedVolumeSource awsElasticBlockStore = 4;
  optional UnsupportedVolumeSource gitRepo = 5;
  optional SecretVolumeSource secret = 6;
  optional UnsupportedVolumeSource nfs = 7;
  optional UnsupportedVolumeSource iscsi = 8;
  optional UnsupportedVolumeSource glusterfs = 9;
  optional UnsupportedVolumeSource persistentVolumeClaim = 10;
  optional UnsupportedVolumeSource rbd = 11;
  optional UnsupportedVolumeSource flexVolume = 12;
  optional UnsupportedVolumeSource cinder = 13;
  optional UnsupportedVolumeSource cephfs = 14;
  optional UnsupportedVolumeSource flocker = 15;
  optional UnsupportedVolumeSource downwardAPI = 16;
  optional UnsupportedVolumeSource fc = 17;
  optional UnsupportedVolumeSource azureFile = 18;
  optional ConfigMapVolumeSource configMap = 19;
  optional UnsupportedVolumeSource vsphereVolume = 20;
  optional UnsupportedVolumeSource quobyte = 21;
  optional UnsupportedVolumeSource azureDisk = 22;
  optional UnsupportedVolumeSource photonPersistentDisk = 23;
  optional UnsupportedVolumeSource projected = 26;
  optional UnsupportedVolumeSource portworxVolume = 24;
  optional UnsupportedVolumeSource scaleIO = 25;
  optional UnsupportedVolumeSource storageos = 27;
  optional UnsupportedVolumeSource csi = 28;
  optional UnsupportedVolumeSource ephemeral = 29;
  optional UnsupportedVolumeSource image = 30;
}

message SecretVolumeSource {
  optional string secretName = 1;
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3 [(pointer) = true];
  optional bool optional = 4 [(pointer) = true];
}

message ConfigMapVolumeSource {
  optional LocalObjectReference localObjectReference = 1;
  repeated KeyToPath items = 2;
  optional int32 defaultMode = 3 [(pointer) = true];
  optional bool optional = 4 [(pointer) = true];
}

message KeyToPath {
  optional string key = 1;
  optional string path = 2;
  optional int32 mode = 3 [(pointer) = true];
}

message EmptyDirVolumeSource {
  optional string medium = 1;
  optional k8s.io.apimachinery.pkg.api.resource.Quantity sizeLimit = 2;
}

message ResourceRequirements {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 1;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> requests = 2;
  repeated ResourceClaim claims = 3;
}

message ResourceClaim {
  optional string name = 1;
  optional string request = 2;
}

message SecurityContext {
  optional Capabilities capabilities = 1;
  optional bool privileged = 2 [(pointer) = true];
  optional SELinuxOptions seLinuxOptions = 3;
  optional int64 runAsUser = 4 [(pointer) = true];
  optional int64 runAsGroup = 8 [(pointer) = true];
  optional bool runAsNonRoot = 5 [(pointer) = true];
  optional bool readOnlyRootFilesystem = 6 [(pointer) = true];
  optional bool allowPrivilegeEscalation = 7 [(pointer) = true];
  optional string procMount = 9 [(pointer) = true];
  optional SeccompProfile seccompProfile = 11;
  optional AppArmorProfile appArmorProfile = 12;
}

message Capabilities {
  repeated string add = 1;
  repeated string drop = 2;
}

message SELinuxOptions {
  optional string user = 1;
  optional string role = 2;
  optional string type = 3;
  optional string level = 4;
}

message SeccompProfile {
  optional string type = 1;
  optional string localhostProfile = 2 [(pointer) = true];
}

message AppArmorProfile {
  optional string type = 1;
  optional string localhostProfile = 2 [(pointer) = true];
}

message PodSecurityContext {
  optional SELinuxOptions seLinuxOptions = 1;
  optional int64 runAsUser = 2 [(pointer) = true];
  optional int64 runAsGroup = 6 [(pointer) = true];
  optional bool runAsNonRoot = 3 [(pointer) = true];
  repeated int64 supplementalGroups = 4;
  optional string supplementalGroupsPolicy = 12 [(pointer) = true];
  optional int64 fsGroup = 5 [(pointer) = true];
  repeated Sysctl sysctls = 7;
  optional string fsGroupChangePolicy = 9 [(pointer) = true];
  optional SeccompProfile seccompProfile = 10;
  optional AppArmorProfile appArmorProfile = 11;
  optional string seLinuxChangePolicy = 13 [(pointer) = true];
}

message Sysctl {
  optional string name = 1;
  optional string value = 2;
}

message Toleration {
  optional string key = 1;
  optional string operator = 2;
  optional string value = 3;
  optional string effect = 4;
  optional int64 tolerationSeconds = 5 [(pointer) = true];
}

message HostAlias {
  optional string ip = 1;
  repeated string hostnames = 2;
}
`;

const BATCH_V1 = `
syntax = "proto2";
package k8s.io.api.batch.v1;

message Job {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional JobSpec spec = 2;
}

message JobSpec {
  optional int32 parallelism = 1 [(pointer) = true];
  optional int32 completions = 2 [(pointer) = true];
  optional int64 activeDeadlineSeconds = 3 [(pointer) = true];
  optional int32 backoffLimit = 7 [(pointer) = true];
  optional int32 backoffLimitPerIndex = 12 [(pointer) = true];
  optional int32 maxFailedIndexes = 13 [(pointer) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector selector = 4;
  optional bool manualSelector = 5 [(pointer) = true];
  optional k8s.io.api.core.v1.PodTemplateSpec template = 6;
  optional int32 ttlSecondsAfterFinished = 8 [(pointer) = true];
  optional string completionMode = 9 [(pointer) = true];
  optional bool suspend = 10 [(pointer) = true];
  optional string podReplacementPolicy = 14 [(pointer) = true];
  optional string managedBy = 15 [(pointer) = true];
}
`;

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const source of [RUNTIME, META_V1, RESOURCE, CORE_V1, BATCH_V1]) protobuf.parse(source, root, { keepCase: true });
  root.resolveAll();
  return root;
}

const root = buildRoot();

/** The runtime.Unknown envelope every Kubernetes protobuf body is wrapped in. */
export const UNKNOWN = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');

/** metav1.Time: its JSON form is an RFC 3339 string, not a message. */
export const TIME = root.lookupType('k8s.io.apimachinery.pkg.apis.meta.v1.Time');

/** resource.Quantity: its JSON form is its string, not a message. */
export const QUANTITY = root.lookupType('k8s.io.apimachinery.pkg.api.resource.Quantity');

/** Fields Go embeds (`json:",inline"`): their fields stand in the JSON of the message holding them. */
export const INLINE_FIELDS: ReadonlySet<string> = new Set(['localObjectReference', 'volumeSource']);

/** The object messages by `apiVersion` and `kind`. */
export const OBJECT_TYPES: Readonly<Record<string, Readonly<Record<string, protobuf.Type>>>> = {
  v1: Object.fromEntries(
    ['Namespace', 'Secret', 'ConfigMap', 'ServiceAccount'].map((kind) => [kind, root.lookupType(`k8s.io.api.core.v1.${kind}`)]),
  ),
  'batch/v1': { Job: root.lookupType('k8s.io.api.batch.v1.Job') },
};
