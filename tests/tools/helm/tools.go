//go:build tools

// Package tools pins the helm command this module builds with
// `go build helm.sh/helm/v4/cmd/helm` (see scripts/tools).
package tools

import _ "helm.sh/helm/v4/cmd/helm"
