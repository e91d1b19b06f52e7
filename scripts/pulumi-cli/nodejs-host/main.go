// Command pulumi-language-nodejs is a small Node.js language host for the Pulumi engine.
//
// The upstream host lives in its own Go module that our module mirror does not serve, so we build an
// equivalent here from the public sdk/v3 packages only. The engine launches this binary as a plugin,
// reads the gRPC port from the first line of stdout, and then calls the LanguageRuntime service. The
// actual program runs in a `node` child process through @pulumi/pulumi's own entry points
// (cmd/run, cmd/run-plugin, cmd/run-policy-pack), so the Node.js SDK behaves exactly as upstream.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	// The engine passes `[--logtostderr] [-v=N] [--tracing URL] ENGINE_ADDRESS`. The logging flags are
	// registered by the sdk's logging package (via glog), so we only declare --tracing ourselves.
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	showVersion := flag.Bool("version", false, "Print the plugin version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Println(pluginVersion())
		return
	}

	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-nodejs", "pulumi-language-nodejs", *tracing)

	// The engine address is optional: when attached for debugging it arrives later via Handshake.
	engineAddress := ""
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// Shut down on our own if the engine goes away, so we never outlive the CLI that started us.
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start health check of the engine: %w", err))
		}
	}

	// rpcutil stops the server gracefully when this channel is closed.
	serverCancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(serverCancel)
	}()

	host := newHost(engineAddress, *tracing)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: serverCancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.TracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}

	// Plugin protocol: the first line on stdout is the port the engine should dial.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}
