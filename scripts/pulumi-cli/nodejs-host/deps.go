package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// InstallDependencies runs the project's package manager (npm unless a lock file or the packagemanager
// option says otherwise) and streams its output back to the CLI, for `pulumi install` and `pulumi new`.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	stream := &lockedStream[pulumirpc.InstallDependenciesResponse]{ServerStreamingServer: server}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(stream, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()

	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return err
	}

	// In an npm/yarn workspace the install must run at the workspace root.
	dir := programDir(req.GetInfo(), req.GetDirectory()) //nolint:staticcheck // older engines
	root, err := npm.FindWorkspaceRoot(dir)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "Detected workspace root at %s\n", root)
		dir = root
	case !errors.Is(err, npm.ErrNotInWorkspace):
		return fmt.Errorf("failure while trying to find workspace root: %w", err)
	}

	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	if _, err := npm.Install(server.Context(), opts.packagemanager, dir, false /*production*/, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// GetProgramDependencies lists the program's npm dependencies for `pulumi about`. Direct dependencies come
// from package.json with the version actually installed in node_modules (falling back to the declared
// range), so it works without a lock file; transitive ones come from the lock file when there is one.
func (h *nodeHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd()) //nolint:staticcheck // older engines

	var deps []plugin.DependencyInfo
	if req.GetTransitiveDependencies() {
		if pm, err := npm.ResolvePackageManager(npm.AutoPackageManager, dir); err == nil {
			if all, err := pm.ListPackages(ctx, dir, true); err == nil {
				deps = all
			} else {
				logging.V(5).Infof("could not list transitive dependencies: %v", err)
			}
		}
	}
	if deps == nil {
		direct, err := directDependencies(dir)
		if err != nil {
			return nil, err
		}
		deps = direct
	}

	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version})
	}
	return resp, nil
}

type packageJSON struct {
	Name            string                  `json:"name"`
	Version         string                  `json:"version"`
	Pulumi          plugin.PulumiPluginJSON `json:"pulumi"`
	Dependencies    map[string]string       `json:"dependencies"`
	DevDependencies map[string]string       `json:"devDependencies"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

func directDependencies(dir string) ([]plugin.DependencyInfo, error) {
	manifest, err := npm.SearchupPackageManifest(dir)
	if err != nil || filepath.Base(manifest) != "package.json" {
		return nil, fmt.Errorf("could not find package.json from %s", dir)
	}
	pkg, err := readPackageJSON(manifest)
	if err != nil {
		return nil, err
	}
	declared := map[string]string{}
	for name, v := range pkg.DevDependencies {
		declared[name] = v
	}
	for name, v := range pkg.Dependencies {
		declared[name] = v
	}
	names := make([]string, 0, len(declared))
	for name := range declared {
		names = append(names, name)
	}
	sort.Strings(names)

	deps := make([]plugin.DependencyInfo, 0, len(names))
	for _, name := range names {
		version := declared[name]
		if installed := installedVersion(filepath.Dir(manifest), name); installed != "" {
			version = installed
		}
		deps = append(deps, plugin.DependencyInfo{Name: name, Version: version})
	}
	return deps, nil
}

// installedVersion finds name in node_modules the way node does, walking up from dir.
func installedVersion(dir, name string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if p, err := readPackageJSON(filepath.Join(d, "node_modules", name, "package.json")); err == nil {
			return p.Version
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// findPulumiPackages lists the resource plugins required by the packages installed for the program in
// dir: every package (including nested node_modules) whose package.json has `"pulumi": {"resource": true}`.
// It starts at the nearest node_modules at or above dir, as node's module resolution would.
func findPulumiPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	nodeModules := ""
	for d := dir; d != ""; d = filepath.Dir(d) {
		if fi, err := os.Stat(filepath.Join(d, "node_modules")); err == nil && fi.IsDir() {
			nodeModules = filepath.Join(d, "node_modules")
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if nodeModules == "" {
		return nil, nil
	}

	s := &packageScan{visited: map[string]bool{}, seen: map[string]bool{}}
	s.scanNodeModules(nodeModules)
	return s.found, errors.Join(s.errs...)
}

type packageScan struct {
	visited map[string]bool // real paths of package directories already read (symlinks can loop)
	seen    map[string]bool // name@version already reported
	found   []*pulumirpc.PackageDependency
	errs    []error
}

// scanNodeModules reads each package in a node_modules directory (looking inside @scope directories) and
// then the package's own nested node_modules. It never walks package sources, which keeps it fast.
func (s *packageScan) scanNodeModules(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			s.errs = append(s.errs, err)
		}
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") { // .bin, .package-lock.json, .cache
			continue
		}
		path := filepath.Join(dir, name)
		if !strings.HasPrefix(name, "@") {
			s.scanPackage(path)
			continue
		}
		scoped, err := os.ReadDir(path)
		if err != nil {
			s.errs = append(s.errs, err)
			continue
		}
		for _, se := range scoped {
			s.scanPackage(filepath.Join(path, se.Name()))
		}
	}
}

func (s *packageScan) scanPackage(dir string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil || s.visited[real] {
		return
	}
	s.visited[real] = true

	pkg, err := readPackageJSON(filepath.Join(real, "package.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Not a package (a stray file or directory); nothing to report.
	case err != nil:
		s.errs = append(s.errs, err)
	default:
		dep, err := packageDependency(pkg)
		if err != nil {
			s.errs = append(s.errs, err)
		} else if dep != nil && !s.seen[dep.Name+"@"+dep.Version] {
			s.seen[dep.Name+"@"+dep.Version] = true
			s.found = append(s.found, dep)
		}
	}
	s.scanNodeModules(filepath.Join(real, "node_modules"))
}

// packageDependency converts a package.json into the plugin it needs, or nil if it needs none. The plugin
// name comes from `pulumi.name`, or from the package name for @pulumi/ packages; the version from
// `pulumi.version` or the package version, with the "v" prefix plugin versions use.
func packageDependency(pkg *packageJSON) (*pulumirpc.PackageDependency, error) {
	if !pkg.Pulumi.Resource {
		return nil, nil
	}
	name := pkg.Pulumi.Name
	if name == "" {
		if !strings.HasPrefix(pkg.Name, "@pulumi/") {
			return nil, fmt.Errorf("package %q declares a resource plugin but no \"pulumi.name\"", pkg.Name)
		}
		name = strings.TrimPrefix(pkg.Name, "@pulumi/")
	}
	version := pkg.Pulumi.Version
	if version == "" {
		version = pkg.Version
	}
	if version == "" {
		return nil, fmt.Errorf("package %q declares a resource plugin but has no version", pkg.Name)
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	dep := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: version, Server: pkg.Pulumi.Server}
	if p := pkg.Pulumi.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dep, nil
}
