//go:build tools

// Package tools pins the kubelet, built with `go build k8s.io/kubernetes/cmd/kubelet`
// (see scripts/cluster).
package tools

import _ "k8s.io/kubernetes/cmd/kubelet"
