{{/*
netseg.objects: the YAML documents of one file under files/ (a symlink into the kustomize base), as maps,
with what kustomize adds (the part-of label) and the release namespace in place of netseg-system.
*/}}
{{- define "netseg.objects" -}}
{{- $root := .root -}}
{{- $out := list -}}
{{- range $doc := regexSplit "(?m)^---\\s*$" ($root.Files.Get (printf "files/%s" .file)) -1 -}}
{{- $o := fromYaml $doc -}}
{{- if $o.kind -}}
{{- $labels := merge (dict "app.kubernetes.io/part-of" "netseg") (default dict $o.metadata.labels) -}}
{{- $_ := set $o.metadata "labels" $labels -}}
{{- if $o.metadata.namespace -}}{{- $_ := set $o.metadata "namespace" $root.Release.Namespace -}}{{- end -}}
{{- range $s := (default list $o.subjects) -}}{{- if $s.namespace -}}{{- $_ := set $s "namespace" $root.Release.Namespace -}}{{- end -}}{{- end -}}
{{- $out = append $out $o -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
netseg.clusterScoped: the resources of the operator's ClusterRole that are cluster-scoped (or cluster-wide by
the operator's design): baselines are cluster-scoped objects, and the baseline controller lists and watches every
Namespace whatever the scope (docs/rbac.md, "Namespace scope"). Every other resource is namespaced.
*/}}
{{- define "netseg.clusterScoped" -}}
{{- toJson (list "clustersegmentationintents" "clustersegmentationintents/status" "clustersegmentationintents/finalizers" "namespaces") -}}
{{- end -}}

{{/*
netseg.splitRules: the ClusterRole's rules (.rules) split, resource by resource, into {"cluster": [...],
"namespaced": [...]}: with `namespaces` set, the first stay in the ClusterRole, the second become a Role in each
watched namespace.
*/}}
{{- define "netseg.splitRules" -}}
{{- $scoped := include "netseg.clusterScoped" . | fromJsonArray -}}
{{- $cluster := list -}}
{{- $namespaced := list -}}
{{- range $r := .rules -}}
{{- $c := list -}}
{{- $n := list -}}
{{- range $res := $r.resources -}}
{{- if has $res $scoped }}{{ $c = append $c $res }}{{ else }}{{ $n = append $n $res }}{{ end -}}
{{- end -}}
{{- if $c }}{{ $cluster = append $cluster (dict "apiGroups" $r.apiGroups "resources" $c "verbs" $r.verbs) }}{{ end -}}
{{- if $n }}{{ $namespaced = append $namespaced (dict "apiGroups" $r.apiGroups "resources" $n "verbs" $r.verbs) }}{{ end -}}
{{- end -}}
{{- toJson (dict "cluster" $cluster "namespaced" $namespaced) -}}
{{- end -}}
