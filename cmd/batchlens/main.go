// Command batchlens watches data-science batch models (CronJobs → Jobs →
// Pods) and serves their Leadership and Engineering dashboards.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/batchlens/batchlens/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
