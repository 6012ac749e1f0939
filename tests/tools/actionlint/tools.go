//go:build tools

// Package tools pins the actionlint command this module builds with
// `go build github.com/rhysd/actionlint/cmd/actionlint` (see scripts/tools).
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
