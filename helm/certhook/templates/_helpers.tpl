{{- define "certhook.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's resource names: <release>-<chart>, or the release alone when it already says the chart's name. */}}
{{- define "certhook.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Every object's labels; call with (dict "root" $ "component" "operator"), the component being
operator, metrics, rbac or crds (what app.kubernetes.io/component tells apart). */}}
{{- define "certhook.labels" -}}
{{ include "certhook.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "certhook.selectorLabels" -}}
app.kubernetes.io/name: {{ include "certhook.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "certhook.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "certhook.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The leader-election Lease: per release, so that two releases in one namespace do not share a leader. */}}
{{- define "certhook.leaseName" -}}
{{- printf "%s-leader" (include "certhook.fullname" .) -}}
{{- end -}}

{{/* Where ClusterDeployHooks' runs, Jobs and snapshots live (--cluster-hook-namespace): operator.clusterHookNamespace, else the release's namespace. */}}
{{- define "certhook.clusterHookNamespace" -}}
{{- .Values.operator.clusterHookNamespace | default .Release.Namespace -}}
{{- end -}}

{{/* What values.schema.json cannot express: rules across values, which would otherwise fail only at run time. */}}
{{- define "certhook.validate" -}}
{{- $election := .Values.operator.leaderElection -}}
{{- if and (gt (int .Values.replicaCount) 1) (not $election.enabled) -}}
{{- fail (printf "replicaCount is %v but operator.leaderElection.enabled is false: without leader election every replica would plan and run hooks, so each hook would fire once per replica. Set operator.leaderElection.enabled=true, or replicaCount=1." .Values.replicaCount) -}}
{{- end -}}
{{- if $election.enabled -}}
{{- $lease := float64 $election.leaseDurationSeconds -}}
{{- $renew := float64 $election.renewDeadlineSeconds -}}
{{- $retry := float64 $election.retryPeriodSeconds -}}
{{- if not (and (gt $lease $renew) (gt $renew (mulf 1.2 $retry)) (gt $retry 0.0)) -}}
{{- fail (printf "operator.leaderElection needs leaseDurationSeconds > renewDeadlineSeconds > 1.2 × retryPeriodSeconds > 0 (got %v, %v, %v): the leader must stop before another may take over, after more than one try to renew; the operator refuses to start otherwise." $election.leaseDurationSeconds $election.renewDeadlineSeconds $election.retryPeriodSeconds) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.operator.watchNamespace .Values.operator.clusterHookNamespace -}}
{{- fail (printf "operator.clusterHookNamespace is %s but operator.watchNamespace is %s: an operator watching one namespace serves no ClusterDeployHooks (the operator refuses --cluster-hook-namespace with --namespace). Leave one of them empty." .Values.operator.clusterHookNamespace .Values.operator.watchNamespace) -}}
{{- end -}}
{{- if and .Values.metrics.enabled (eq (int .Values.metrics.port) (int .Values.operator.healthPort)) -}}
{{- fail (printf "metrics.port and operator.healthPort are both %v: the operator serves metrics and health on ports of their own. Change one of them." .Values.metrics.port) -}}
{{- end -}}
{{- end -}}

{{/* The operator's image: repository:tag, pinned by image.digest when one is set. */}}
{{- define "certhook.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- with .Values.image.digest -}}{{- $ref = printf "%s@%s" $ref . -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* The operator's probes: the chart's endpoint on the health port, the timings from values. */}}
{{- define "certhook.probe" -}}
httpGet:
  path: {{ .path }}
  port: health
{{- range $field := list "initialDelaySeconds" "periodSeconds" "timeoutSeconds" "successThreshold" "failureThreshold" }}
{{ $field }}: {{ get $.values $field }}
{{- end }}
{{- end -}}

{{/* "true" when the hard podAntiAffinity preset applies (affinity, when set, replaces presets). */}}
{{- define "certhook.hardAntiAffinity" -}}
{{- if and (not .Values.affinity) (eq .Values.podAntiAffinity.preset "hard") }}true{{ end -}}
{{- end -}}

{{/* The podAntiAffinity preset's term: the release's operator pods, kept apart by topologyKey. */}}
{{- define "certhook.antiAffinityTerm" -}}
topologyKey: {{ .Values.podAntiAffinity.topologyKey }}
labelSelector:
  matchLabels:
    {{- include "certhook.selectorLabels" . | nindent 4 }}
{{- end -}}
