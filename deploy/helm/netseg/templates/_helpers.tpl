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
