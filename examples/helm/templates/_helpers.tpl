{{/* The Deployment's name, which kmigrate's hook and gate name too. */}}
{{- define "shop.name" -}}
{{- .Release.Name -}}
{{- end }}

{{/* The app's image: one value, for the app container and its schema gate alike. */}}
{{- define "shop.image" -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- end }}

{{/*
What the app container uses to reach the database, and how it may run: `kmigrate gate`
copies these from the app container to the gate, so both share one definition here.
*/}}
{{- define "shop.databaseSettings" -}}
{{- with .Values.app.env }}
env:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.app.envFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.app.volumeMounts }}
volumeMounts:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.app.securityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The hook annotations of the migration's objects, in order (`wave`: the ServiceAccount and
its Role first, then the Job). Helm: a pre-upgrade hook (kmigrate's Job mode copies the
Deployment, which an upgrade has and a first install does not yet). Argo CD: a PreSync hook;
hooks of one phase run in sync-wave order. Each kept until the next run replaces it, so its
log can be read.
*/}}
{{- define "shop.hookAnnotations" -}}
{{- if eq .root.Values.migrate.hooks "argocd" }}
argocd.argoproj.io/hook: PreSync
argocd.argoproj.io/sync-wave: {{ .wave | quote }}
argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
{{- else if eq .root.Values.migrate.hooks "helm" }}
helm.sh/hook: pre-upgrade
helm.sh/hook-weight: {{ .wave | quote }}
helm.sh/hook-delete-policy: before-hook-creation
{{- else }}
{{- fail (printf "migrate.hooks is %q: use helm or argocd" .root.Values.migrate.hooks) }}
{{- end }}
{{- end }}
