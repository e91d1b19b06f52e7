package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync"

	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const sdkModule = "github.com/pulumi/pulumi/sdk/v3"

// pluginVersion is the `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=...` stamp that
// scripts/pulumi-engine.sh sets. A plain `go build` has no stamp; it then reports the version of the sdk
// module it was built against (from go.mod, via the build info), so no literal here can fall behind a bump.
func pluginVersion() string {
	if v := strings.TrimPrefix(version.Version, "v"); v != "" {
		return v
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		return moduleVersion(info, sdkModule)
	}
	return ""
}

// moduleVersion is the version, without its "v", of the dependency at path in info ("" when absent).
func moduleVersion(info *debug.BuildInfo, path string) string {
	for _, dep := range info.Deps {
		if dep.Path == path {
			if dep.Replace != nil {
				dep = dep.Replace
			}
			return strings.TrimPrefix(dep.Version, "v")
		}
	}
	return ""
}

// nodeHost implements pulumirpc.LanguageRuntimeServer. Methods we do not need offline (code generation,
// packing, linking, templates) fall through to the embedded Unimplemented server, which the engine treats
// as "not supported".
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	tracing string

	mu            sync.Mutex
	engineAddress string

	// cancelCtx is cancelled by the Cancel RPC so that running node children are interrupted.
	cancelCtx  context.Context
	cancelFunc context.CancelFunc
}

func newHost(engineAddress, tracing string) *nodeHost {
	ctx, cancel := context.WithCancel(context.Background())
	return &nodeHost{
		tracing:       tracing,
		engineAddress: engineAddress,
		cancelCtx:     ctx,
		cancelFunc:    cancel,
	}
}

func (h *nodeHost) getEngineAddress() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake is only sent when the engine attaches to an already running host (PULUMI_DEBUG_LANGUAGES);
// a launched host gets the engine address on its command line instead.
func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: pluginVersion()}, nil
}

// Cancel interrupts any node process we started; the engine calls it when the user presses Ctrl-C.
func (h *nodeHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelFunc()
	return &emptypb.Empty{}, nil
}

// About reports the node executable and its version for `pulumi about`.
func (h *nodeHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("failed to get node version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// GetRequiredPlugins is the deprecated predecessor of GetRequiredPackages. Answering it with the same data
// keeps older engines working; newer ones never call it.
func (h *nodeHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd())
	pkgs, err := findPulumiPackages(dir)
	if err != nil {
		logging.V(3).Infof("errors while looking for plugins in %s: %v", dir, err)
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(pkgs))
	for _, p := range pkgs {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.GetName(), Kind: p.GetKind(), Version: p.GetVersion(), Server: p.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// GetRequiredPackages lists the resource providers the program's node_modules declare (via
// `"pulumi": {"resource": true}` in their package.json), like the upstream host. The engine only uses this
// to pre-install plugins on a best-effort basis and to pick default provider versions.
func (h *nodeHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	dir := programDir(req.GetInfo(), "")
	pkgs, err := findPulumiPackages(dir)
	if err != nil {
		// Like upstream, a partially unreadable node_modules is not fatal.
		logging.V(3).Infof("errors while looking for packages in %s: %v", dir, err)
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

// programDir picks the directory a request is about: the ProgramInfo's program directory when present,
// otherwise the deprecated top-level field older engines fill in.
func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	return fallback
}
