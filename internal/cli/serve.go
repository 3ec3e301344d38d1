package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/batchlens/batchlens/internal/kube"
	rusage "github.com/batchlens/batchlens/internal/usage"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newFlags("serve", stderr)
	var (
		c       common
		kopts   kube.ClientOptions
		wopts   kube.Options
		cluster string
	)
	c.register(f, "batchlens.db")
	f.string(&kopts.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)")
	f.string(&kopts.Context, "context", "", "kubeconfig context (default: the current one)")
	f.strings(&wopts.Namespaces, "namespace", "namespace to watch (default: all)")
	f.string(&wopts.LabelSelector, "label-selector", "", "only CronJobs, Jobs and Pods matching this selector")
	f.string(&cluster, "cluster-name", "default", "cluster name written into every fact")
	f.duration(&wopts.Resync, "resync", 0, "informer resync period (0: none; the ledger needs none)")
	if err := f.parse(args); err != nil {
		return err
	}
	if cluster == "" {
		return fmt.Errorf("--cluster-name must not be empty")
	}
	wopts.Cluster = cluster
	log, err := newLogger(stderr, c.logLevel)
	if err != nil {
		return err
	}
	kopts.UserAgent = "batchlens/" + version
	cfg, err := kube.Config(kopts)
	if err != nil {
		return err
	}
	client, err := kube.NewClient(cfg)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, c, log)
	if err != nil {
		return err
	}
	w := kube.New(client, a.batcher, log, wopts)
	stats := kube.NewNodeStats(client)
	poller := rusage.NewPoller(stats, a.batcher, log, rusage.PollerOptions{
		Cluster: cluster, Interval: c.sampleInterval, Pods: w.TrackedPods, Allowed: stats.Allowed,
	})
	a.usage = poller.Status
	fmt.Fprintf(stdout, "batchlens %s watching %s (cluster %q); dashboards at %s\n", version, cfg.Host, cluster, a.url())
	start := time.Now()
	return a.run(ctx, w.Ready, func(ctx context.Context) error {
		err := w.Run(ctx)
		log.Info("watch ended", "after", time.Since(start).Round(time.Second))
		return err
	}, poller.Run)
}
