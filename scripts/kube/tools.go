//go:build tools

// Package tools pins the Kubernetes API server, kubectl and etcd that scripts/kube.sh builds.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
