// Command demo-cluster runs batchlens against a real API server: it starts the pinned control
// plane of e2e/plane on loopback (building it once into the cache), runs the e2e scenario
// continuously (CronJobs every minute and a plain Job every few seconds, through every
// outcome), and serves batchlens on it until interrupted. `make demo-cluster` runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/batchlens/batchlens/e2e/plane"
	"github.com/batchlens/batchlens/e2e/scenario"
	"github.com/batchlens/batchlens/internal/cli"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "where batchlens serves")
	every := flag.Duration("every", 3*time.Second, "how often the scenario creates a plain Job")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, *every); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "demo-cluster:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, listen string, every time.Duration) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	bin, err := plane.Build(ctx, repo, os.Stderr)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "batchlens-demo-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	p, err := plane.Start(ctx, plane.Options{Bin: bin, Work: work, Log: log,
		Stages: []string{filepath.Join(repo, "e2e", "stages", "batchlens.yaml")}})
	if err != nil {
		return err
	}
	defer p.Stop()
	namespaces := []string{"forecasting", "recommendations", "risk"}
	for _, ns := range namespaces {
		if err := p.EnsureNamespace(ctx, ns); err != nil {
			return err
		}
	}
	log.Info("control plane ready", "kubeconfig", p.AdminKubeconfig, "hint", "KUBECONFIG="+p.AdminKubeconfig+" kubectl get jobs -A")

	sc := scenario.New(p.Admin, namespaces, log)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		code := cli.Main(ctx, []string{"serve", "--kubeconfig", p.AdminKubeconfig, "--cluster-name", "demo-cluster",
			"--db", filepath.Join(work, "batchlens.db"), "--listen", listen}, os.Stdout, os.Stderr)
		if code != 0 && ctx.Err() == nil {
			return fmt.Errorf("batchlens serve exited with status %d", code)
		}
		return ctx.Err()
	})
	g.Go(func() error {
		if err := sc.StartCronJobs(ctx); err != nil {
			return err
		}
		if err := p.AddNode(ctx, "kwok-late-0", map[string]string{scenario.PoolLabel: "late"}); err != nil {
			return err
		}
		return sc.CreateJobs(ctx, 1_000_000, every)
	})
	return g.Wait()
}
