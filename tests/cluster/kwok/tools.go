//go:build tools

// Package tools pins the command this module builds with
// `go build sigs.k8s.io/kwok/cmd/kwok` (see scripts/cluster).
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
