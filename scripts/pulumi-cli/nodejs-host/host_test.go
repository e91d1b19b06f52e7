package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestRunArgs(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1111",
		Organization:   "org",
		Project:        "proj",
		Stack:          "dev",
		Pwd:            "/ignored/when/info/is/set",
		DryRun:         true,
		Parallel:       8,
		Args:           []string{"--not-a-flag-for-cmd-run", "x"},
		Info: &pulumirpc.ProgramInfo{
			RootDirectory: "/p", ProgramDirectory: "/p/src", EntryPoint: "index.ts",
		},
	}
	got := runArgs(req, "/nm/@pulumi/pulumi/cmd/run/index.js", "127.0.0.1:2222", "")
	want := []string{
		"/nm/@pulumi/pulumi/cmd/run/index.js",
		"--monitor=127.0.0.1:1111",
		"--engine=127.0.0.1:2222",
		"--organization=org",
		"--project=proj",
		"--root-directory=/p",
		"--stack=dev",
		"--pwd=/p/src",
		"--dry-run",
		"--parallel=8",
		"index.ts",
		"--not-a-flag-for-cmd-run", "x",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("runArgs:\n got %q\nwant %q", got, want)
	}
}

func TestRunArgsDefaults(t *testing.T) {
	// An old-style request without ProgramInfo: pwd and entry point fall back to the deprecated fields.
	req := &pulumirpc.RunRequest{MonitorAddress: "m:1", Pwd: "/w"}
	got := runArgs(req, "run.js", "", "http://trace")
	want := []string{"run.js", "--monitor=m:1", "--pwd=/w", "--parallel=0", "--tracing=http://trace", "."}
	if !slices.Equal(got, want) {
		t.Fatalf("runArgs:\n got %q\nwant %q", got, want)
	}
	req.Program = "main.js"
	if got := entryPoint(req); got != "main.js" {
		t.Fatalf("entryPoint = %q, want main.js", got)
	}
}

func TestRunEnv(t *testing.T) {
	req := &pulumirpc.RunRequest{
		Config:           map[string]string{"proj:greeting": "hi", "aws:region": "eu"},
		ConfigSecretKeys: []string{"proj:token"},
	}
	env, err := runEnv([]string{"PATH=/bin", "PULUMI_CONFIG=stale"}, req, nodeOptions{typescript: true, tsconfig: "tsconfig.prod.json"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PATH=/bin",
		"PULUMI_CONFIG=stale",
		`PULUMI_CONFIG={"aws:region":"eu","proj:greeting":"hi"}`,
		`PULUMI_CONFIG_SECRET_KEYS=["proj:token"]`,
		"PULUMI_NODEJS_TYPESCRIPT=true",
		"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.prod.json",
	}
	if !slices.Equal(env, want) {
		t.Fatalf("runEnv:\n got %q\nwant %q", env, want)
	}

	// No config still yields valid JSON, and typescript:false leaves ts-node off.
	env, err = runEnv(nil, &pulumirpc.RunRequest{}, nodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"PULUMI_CONFIG={}", "PULUMI_CONFIG_SECRET_KEYS=[]"}
	if !slices.Equal(env, want) {
		t.Fatalf("runEnv (empty):\n got %q\nwant %q", env, want)
	}
}

func TestResponseForExitCode(t *testing.T) {
	if r := responseForExitCode(0); r.Error != "" || r.Bail {
		t.Errorf("exit 0: %v", r)
	}
	if r := responseForExitCode(32); r.Error != "" || !r.Bail {
		t.Errorf("exit 32 must bail without a message: %v", r)
	}
	if r := responseForExitCode(1); r.Bail || r.Error != "Program exited with non-zero exit code: 1" {
		t.Errorf("exit 1: %v", r)
	}
}

func TestResponseForExit(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	if r := responseForExit(exec.Command("sh", "-c", "exit 32").Run()); !r.Bail || r.Error != "" {
		t.Errorf("real exit 32: %v", r)
	}
	if r := responseForExit(exec.Command("sh", "-c", "exit 7").Run()); r.Bail || !strings.Contains(r.Error, "code: 7") {
		t.Errorf("real exit 7: %v", r)
	}
	if r := responseForExit(exec.Command("sh", "-c", "kill -9 $$").Run()); r.Bail || !strings.Contains(r.Error, "unexpectedly") {
		t.Errorf("killed: %v", r)
	}
	if r := responseForExit(errors.New("boom")); !strings.Contains(r.Error, "(could not run language executor): boom") {
		t.Errorf("start failure: %v", r)
	}
	if r := responseForExit(exec.ErrWaitDelay); r.Error != "" || r.Bail {
		t.Errorf("wait delay after a clean exit: %v", r)
	}
}

func TestParseOptions(t *testing.T) {
	opts, err := parseOptions(nil)
	if err != nil || !opts.typescript || opts.packagemanager != npm.AutoPackageManager || len(opts.nodeargs) != 0 {
		t.Fatalf("defaults: %+v, %v", opts, err)
	}

	raw, err := structpb.NewStruct(map[string]any{
		"typescript": false, "tsconfig": "tsconfig.x.json",
		"nodeargs": `--max-old-space-size=4096 --require "./my hook.js"`, "packagemanager": "pnpm",
	})
	if err != nil {
		t.Fatal(err)
	}
	opts, err = parseOptions(raw.AsMap())
	if err != nil {
		t.Fatal(err)
	}
	if opts.typescript || opts.tsconfig != "tsconfig.x.json" || opts.packagemanager != npm.PnpmPackageManager ||
		!slices.Equal(opts.nodeargs, []string{"--max-old-space-size=4096", "--require", "./my hook.js"}) {
		t.Fatalf("parsed: %+v", opts)
	}
	if env := opts.typescriptEnv(); !slices.Equal(env, []string{"PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.x.json"}) {
		t.Fatalf("typescriptEnv: %q", env)
	}

	for _, bad := range []map[string]any{
		{"typescript": "yes"}, {"tsconfig": 1.0}, {"nodeargs": true}, {"packagemanager": "cargo"},
	} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("parseOptions(%v) should fail", bad)
		}
	}
}

func TestPluginArgs(t *testing.T) {
	engineArgs := []string{"--logtostderr", "-v=9", "127.0.0.1:3333"}
	got := pluginArgs([]string{"--inspect"}, "run-policy-pack.js", "/pack", engineArgs, true)
	want := []string{"--inspect", "run-policy-pack.js", "127.0.0.1:3333", "/pack"}
	if !slices.Equal(got, want) {
		t.Fatalf("policy args:\n got %q\nwant %q", got, want)
	}
	got = pluginArgs(nil, "run-plugin.js", "/prov", engineArgs, false)
	want = []string{"run-plugin.js", "/prov", "--logtostderr", "-v=9", "127.0.0.1:3333"}
	if !slices.Equal(got, want) {
		t.Fatalf("plugin args:\n got %q\nwant %q", got, want)
	}
}

func TestPolicyEnv(t *testing.T) {
	env, err := policyEnv(&pulumirpc.AnalyzerStackConfigureRequest{
		Project: "p", Stack: "s", Config: map[string]string{"p:k": "v"}, ConfigSecretKeys: []string{"p:k"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PULUMI_NODEJS_PROJECT=p", "PULUMI_NODEJS_STACK=s", "PULUMI_NODEJS_DRY_RUN=false",
		`PULUMI_CONFIG={"p:k":"v"}`, `PULUMI_CONFIG_SECRET_KEYS=["p:k"]`,
	}
	if !slices.Equal(env, want) {
		t.Fatalf("policyEnv:\n got %q\nwant %q", env, want)
	}
	if env, err := policyEnv(nil); env != nil || err != nil {
		t.Fatalf("nil config: %q %v", env, err)
	}
}

func TestPackageDependency(t *testing.T) {
	dep, err := packageDependency(&packageJSON{
		Name: "@pulumi/aws", Version: "6.1.0", Pulumi: plugin.PulumiPluginJSON{Resource: true},
	})
	if err != nil || dep.Name != "aws" || dep.Version != "v6.1.0" || dep.Kind != "resource" {
		t.Fatalf("@pulumi/aws: %v %v", dep, err)
	}
	dep, err = packageDependency(&packageJSON{
		Name: "@acme/thing", Version: "1.0.0",
		Pulumi: plugin.PulumiPluginJSON{Resource: true, Name: "acme", Version: "v2.0.0", Server: "https://example.invalid"},
	})
	if err != nil || dep.Name != "acme" || dep.Version != "v2.0.0" || dep.Server != "https://example.invalid" {
		t.Fatalf("third party: %v %v", dep, err)
	}
	if dep, err := packageDependency(&packageJSON{Name: "left-pad", Version: "1.0.0"}); dep != nil || err != nil {
		t.Fatalf("plain package: %v %v", dep, err)
	}
	if _, err := packageDependency(&packageJSON{
		Name: "@acme/thing", Version: "1.0.0", Pulumi: plugin.PulumiPluginJSON{Resource: true},
	}); err == nil {
		t.Fatal("third-party plugin without pulumi.name should fail")
	}
}

func TestFindPulumiPackagesAndDirectDependencies(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"name":"app","dependencies":{"@pulumi/random":"^4"},"devDependencies":{"typescript":"^5"}}`)
	write("node_modules/@pulumi/random/package.json", `{"name":"@pulumi/random","version":"4.16.0","pulumi":{"resource":true}}`)
	write("node_modules/@pulumi/pulumi/package.json", `{"name":"@pulumi/pulumi","version":"3.248.0"}`)
	write("node_modules/wrapper/package.json", `{"name":"wrapper","version":"1.0.0"}`)
	write("node_modules/wrapper/node_modules/@pulumi/tls/package.json", `{"name":"@pulumi/tls","version":"5.0.0","pulumi":{"resource":true}}`)
	// A symlink loop must not hang the scan.
	if err := os.Symlink(filepath.Join(root, "node_modules"), filepath.Join(root, "node_modules/wrapper/node_modules/loop")); err != nil {
		t.Fatal(err)
	}

	pkgs, err := findPulumiPackages(filepath.Join(root, "src")) // starts below the node_modules, like main: src/
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.Name+"@"+p.Version)
	}
	slices.Sort(got)
	if want := []string{"random@v4.16.0", "tls@v5.0.0"}; !slices.Equal(got, want) {
		t.Fatalf("findPulumiPackages = %q, want %q", got, want)
	}

	deps, err := directDependencies(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []plugin.DependencyInfo{{Name: "@pulumi/random", Version: "4.16.0"}, {Name: "typescript", Version: "^5"}}
	if !slices.Equal(deps, want) {
		t.Fatalf("directDependencies = %v, want %v", deps, want)
	}
}

func TestPluginVersionWithoutStampIsTheSdkInGoMod(t *testing.T) {
	goMod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, line := range strings.Split(string(goMod), "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == sdkModule {
			want = strings.TrimPrefix(fields[1], "v")
		}
	}
	if want == "" {
		t.Fatalf("go.mod does not require %s", sdkModule)
	}
	if got := pluginVersion(); got != want {
		t.Fatalf("pluginVersion() = %q, want %q (go.mod)", got, want)
	}
}

func TestModuleVersionFollowsAReplace(t *testing.T) {
	info := &debug.BuildInfo{Deps: []*debug.Module{
		{Path: "example.com/other", Version: "v1.0.0"},
		{Path: sdkModule, Version: "v3.1.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v3.1.1"}},
	}}
	if got := moduleVersion(info, sdkModule); got != "3.1.1" {
		t.Fatalf("moduleVersion = %q, want 3.1.1", got)
	}
	if got := moduleVersion(info, "example.com/absent"); got != "" {
		t.Fatalf("moduleVersion of an absent module = %q, want empty", got)
	}
}
