package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// RunPlugin runs a plugin written in Node.js: a policy pack (kind "analyzer", via
// @pulumi/pulumi/cmd/run-policy-pack) or a provider/other plugin (via cmd/run-plugin). The engine reads
// the plugin's port from the stdout we stream back, exactly as if it had launched a binary.
func (h *nodeHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	stream := &lockedStream[pulumirpc.RunPluginResponse]{ServerStreamingServer: server}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(stream, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}

	dir := programDir(req.GetInfo(), req.GetPwd())
	isPolicy := req.GetKind() == string(apitype.AnalyzerPlugin)
	runPath, err := resolveModule(ctx, node, pluginModule(isPolicy), dir, "npm install in "+dir)
	if err != nil {
		return err
	}

	// The engine sends the environment the plugin should see; fall back to ours if it sent none so that
	// adding the TypeScript switches never leaves node without PATH/HOME.
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	env = append(append([]string{}, env...), opts.typescriptEnv()...)

	args := pluginArgs(opts.nodeargs, runPath, dir, req.GetArgs(), isPolicy)
	cmd, done := h.command(ctx, node, args)
	defer done()
	cmd.Env = env
	cmd.Stderr = stderr
	logging.V(5).Infof("language host launching plugin %q: %s %v", req.GetName(), node, args)

	if isPolicy {
		// Policy packs have always run from their own directory.
		cmd.Dir = dir
		return finishPlugin(stream, runPolicyPack(ctx, cmd, stdout))
	}
	cmd.Dir = req.GetPwd()
	cmd.Stdout = stdout
	return finishPlugin(stream, cmd.Run())
}

// runPolicyPack starts a policy pack behind the sdk's PolicyProxy. The engine first configures the stack
// (name, config, dry-run) over gRPC, but @pulumi/policy reads those from the environment at start-up, so the
// proxy answers the engine, we start node with that environment, and the proxy then forwards to it.
func runPolicyPack(ctx context.Context, cmd *exec.Cmd, stdout io.Writer) error {
	proxy, childStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("could not start policy pack proxy: %w", err)
	}
	cfg, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("could not get stack configuration: %w", err)
	}
	extra, err := policyEnv(cfg)
	if err != nil {
		return err
	}
	cmd.Env = append(cmd.Env, extra...)
	cmd.Stdout = childStdout
	if err := cmd.Start(); err != nil {
		return err
	}
	// Attach waits for the process to exit and returns its Wait error.
	return proxy.Attach(ctx, cmd)
}

// policyEnv is the environment the Node.js SDK would have had when running the program being checked.
func policyEnv(cfg *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if cfg == nil {
		return nil, nil
	}
	var env []string
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PULUMI_NODEJS_ORGANIZATION", cfg.GetOrganization())
	add("PULUMI_NODEJS_PROJECT", cfg.GetProject())
	add("PULUMI_NODEJS_STACK", cfg.GetStack())
	add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(cfg.GetDryRun()))
	if c := cfg.GetConfig(); c != nil {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("could not marshal stack configuration: %w", err)
		}
		add("PULUMI_CONFIG", string(b))
	}
	if keys := cfg.GetConfigSecretKeys(); len(keys) > 0 {
		b, err := json.Marshal(keys)
		if err != nil {
			return nil, fmt.Errorf("could not marshal secret keys: %w", err)
		}
		add("PULUMI_CONFIG_SECRET_KEYS", string(b))
	}
	return env, nil
}

func pluginModule(isPolicy bool) string {
	if isPolicy {
		return "@pulumi/pulumi/cmd/run-policy-pack"
	}
	if m := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); m != "" {
		return m
	}
	return "@pulumi/pulumi/cmd/run-plugin"
}

// pluginArgs builds the node command line for a plugin.
//
// cmd/run-policy-pack takes `<engine-address> <program>`. The engine's args are
// `[--logtostderr] [-v=N] [--tracing URL] <engine-address>`, and run-policy-pack's minimist does not know
// --logtostderr is boolean (it would swallow the address), so only the address (always last) is passed.
// cmd/run-plugin takes `<program> [args...]` and hands the args to the provider unchanged.
func pluginArgs(nodeargs []string, runPath, dir string, engineArgs []string, isPolicy bool) []string {
	args := append(append([]string{}, nodeargs...), runPath)
	if isPolicy {
		if n := len(engineArgs); n > 0 {
			args = append(args, engineArgs[n-1])
		}
		return append(args, dir)
	}
	args = append(args, dir)
	return append(args, engineArgs...)
}

// finishPlugin reports how the plugin ended. An exit status goes back as the protocol's final Exitcode
// message; an error means the plugin could not be run at all and fails the RPC.
func finishPlugin(stream grpc.ServerStreamingServer[pulumirpc.RunPluginResponse], err error) error {
	code := 0
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = exitErr.ExitCode()
	}
	return stream.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}, //nolint:gosec // exit codes are small
	})
}

// lockedStream serialises Send: exec copies a child's stdout and stderr from two goroutines, and a gRPC
// stream must not be written concurrently.
type lockedStream[T any] struct {
	grpc.ServerStreamingServer[T]
	mu sync.Mutex
}

func (s *lockedStream[T]) Send(m *T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ServerStreamingServer.Send(m)
}
