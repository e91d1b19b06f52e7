//go:build tools

// Package tools pins the pulumi-kubernetes provider that scripts/kube.sh builds. The provider's main
// package cannot be built from the module proxy as it is (its main.go embeds two generated files the
// module zip lacks), so scripts/kube.sh copies it into a scratch folder beside this go.mod and go.sum
// and generates them; these imports are exactly main.go's, so this module pins what that build needs.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)
