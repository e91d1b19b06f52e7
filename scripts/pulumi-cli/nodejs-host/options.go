package main

import (
	"errors"
	"fmt"

	"github.com/google/shlex"

	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
)

// nodeOptions are the `runtime.options` a Pulumi.yaml (or PulumiPolicy.yaml / PulumiPlugin.yaml) may set
// for the nodejs runtime. They arrive in ProgramInfo.Options.
type nodeOptions struct {
	// typescript makes @pulumi/pulumi's cmd/run register ts-node; it defaults to true, as upstream.
	typescript bool
	// tsconfig is a tsconfig path for ts-node, relative to the program directory.
	tsconfig string
	// nodeargs are extra arguments for the `node` executable itself (e.g. --max-old-space-size=4096).
	nodeargs []string
	// packagemanager selects npm, yarn, pnpm or bun for InstallDependencies; "auto" looks at lock files.
	packagemanager npm.PackageManagerType
}

func parseOptions(raw map[string]any) (nodeOptions, error) {
	opts := nodeOptions{typescript: true, packagemanager: npm.AutoPackageManager}

	if v, ok := raw["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, errors.New("typescript option must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := raw["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("tsconfig option must be a string")
		}
		opts.tsconfig = s
	}
	if v, ok := raw["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("nodeargs option must be a string")
		}
		args, err := shlex.Split(s)
		if err != nil {
			return opts, fmt.Errorf("could not parse nodeargs %q: %w", s, err)
		}
		opts.nodeargs = args
	}
	if v, ok := raw["packagemanager"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("packagemanager option must be a string")
		}
		switch pm := npm.PackageManagerType(s); pm {
		case npm.AutoPackageManager, npm.NpmPackageManager, npm.YarnPackageManager,
			npm.PnpmPackageManager, npm.BunPackageManager:
			opts.packagemanager = pm
		default:
			return opts, fmt.Errorf("packagemanager option must be one of auto, npm, yarn, pnpm or bun, got %q", s)
		}
	}
	return opts, nil
}

// typescriptEnv is the environment @pulumi/pulumi's entry points read to decide whether (and how) to
// register ts-node before loading the program.
func (o nodeOptions) typescriptEnv() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}
