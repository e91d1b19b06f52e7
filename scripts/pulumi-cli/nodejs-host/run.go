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
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	// defaultRunModule is @pulumi/pulumi's program launcher. PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides it, as
	// it does for the upstream host.
	defaultRunModule = "@pulumi/pulumi/cmd/run"

	// userActionableExitCode is what @pulumi/pulumi's launchers exit with after they have already logged the
	// program's error to the engine (nodeJSProcessExitedAfterLoggingUserActionableMessage in cmd/run). The
	// engine must then bail quietly instead of printing a second, generic error.
	userActionableExitCode = 32
)

// Run executes a Pulumi program: `node [nodeargs] <@pulumi/pulumi/cmd/run> <flags> <entry point> [args]`.
// The program talks to the engine's resource monitor directly; we only wait for it and translate its
// exit status. Failures to even start are returned in RunResponse.Error so the CLI shows them as a
// program error rather than an RPC failure.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not find node on the $PATH: %v", err)}, nil
	}

	runModule := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runModule == "" {
		runModule = defaultRunModule
	}
	dir := programDir(req.GetInfo(), req.GetPwd())
	runPath, err := resolveModule(ctx, node, runModule, dir, "pulumi install")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	env, err := runEnv(os.Environ(), req, opts)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := append(append([]string{}, opts.nodeargs...),
		runArgs(req, runPath, h.getEngineAddress(), h.tracing)...)

	cmd, done := h.command(ctx, node, args)
	defer done()
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	// Wrapping os.Stdout/os.Stderr makes exec copy through a pipe instead of handing node our own file
	// descriptors: node switches inherited pipes to non-blocking mode, which would break our own writes.
	// The engine turns each line it reads from us into a diagnostic, which is how console.log shows up.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}

	logging.V(5).Infof("language host launching: %s %s", node, strings.Join(args, " "))
	return responseForExit(cmd.Run()), nil
}

// command builds an exec.Cmd that is interrupted (SIGINT, then killed after a grace period) when either
// the RPC that started it ends or the engine sends Cancel.
func (h *nodeHost) command(ctx context.Context, name string, args []string) (*exec.Cmd, func()) {
	cmdCtx, cancel := context.WithCancel(h.cancelCtx)
	stop := context.AfterFunc(ctx, cancel)
	cmd := exec.CommandContext(cmdCtx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	return cmd, func() { stop(); cancel() }
}

// runArgs builds the command line @pulumi/pulumi's cmd/run parses with minimist (see cmd/run/index.ts).
// Flags use the --name=value form so a value can never be mistaken for another flag, and the entry point
// comes first among the positional arguments because cmd/run stops option parsing there.
func runArgs(req *pulumirpc.RunRequest, runPath, engineAddress, tracing string) []string {
	args := []string{runPath}
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", programDir(req.GetInfo(), req.GetPwd()))
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("tracing", tracing)
	// No --sync: @pulumi/pulumi 3.x no longer uses synchronous invoke pipes. No query mode either: the
	// engine dropped it and cmd/run has no flag for it.
	args = append(args, entryPoint(req))
	return append(args, req.GetArgs()...)
}

// entryPoint is what cmd/run should load: a file relative to --pwd, or "." to let it consult package.json
// (`main`/`exports`) and then fall back to index.js/index.ts.
func entryPoint(req *pulumirpc.RunRequest) string {
	if ep := req.GetInfo().GetEntryPoint(); ep != "" {
		return ep
	}
	if p := req.GetProgram(); p != "" { //nolint:staticcheck // older engines only fill the deprecated field
		return p
	}
	return "."
}

// runEnv adds what the Node.js SDK reads from the environment (runtime/config.ts and cmd/run/run.ts):
// config as a JSON object, the list of secret keys as a JSON array, and the TypeScript switches.
// Later entries win in os/exec, so these override anything inherited.
func runEnv(base []string, req *pulumirpc.RunRequest, opts nodeOptions) ([]string, error) {
	cfg := req.GetConfig()
	if cfg == nil {
		cfg = map[string]string{}
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
	}

	env := append([]string{}, base...)
	env = append(env, "PULUMI_CONFIG="+string(cfgJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	return append(env, opts.typescriptEnv()...), nil
}

// responseForExit turns the result of running cmd/run into what the engine expects from Run.
func responseForExit(err error) *pulumirpc.RunResponse {
	if err == nil || errors.Is(err, exec.ErrWaitDelay) {
		// ErrWaitDelay means node exited 0 but something it spawned kept our output pipes open.
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if code := exitErr.ExitCode(); code >= 0 {
			return responseForExitCode(code)
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", exitErr)}
	}
	return &pulumirpc.RunResponse{
		Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
	}
}

func responseForExitCode(code int) *pulumirpc.RunResponse {
	switch code {
	case 0:
		return &pulumirpc.RunResponse{}
	case userActionableExitCode:
		// The SDK already reported the error through the engine; Bail stops the CLI adding another.
		return &pulumirpc.RunResponse{Bail: true}
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}
	}
}

// resolveModule asks node where a module resolves from dir, so we use the @pulumi/pulumi the program
// itself depends on (node_modules lookup, workspaces, symlinks) rather than guessing a path.
func resolveModule(ctx context.Context, node, module, dir, installHint string) (string, error) {
	mod, err := json.Marshal(module)
	if err != nil {
		return "", err
	}
	script := fmt.Sprintf(
		`try { console.log(require.resolve(%s)); } catch (e) { `+
			`console.error(e.code === "MODULE_NOT_FOUND" ? %s : e.message); process.exit(1); }`,
		mod, jsonString(fmt.Sprintf(
			"It looks like the Pulumi SDK has not been installed (cannot resolve %s from %s). Have you run %s?",
			module, dir, installHint)))
	cmd := exec.CommandContext(ctx, node, "-e", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && len(exitErr.Stderr) > 0 {
			return "", errors.New(strings.TrimSpace(string(exitErr.Stderr)))
		}
		return "", fmt.Errorf("could not resolve %s: %w", module, err)
	}
	return strings.TrimSpace(string(out)), nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s) // marshalling a string cannot fail
	return string(b)
}
