package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"golang.org/x/sync/errgroup"

	"github.com/batchlens/batchlens/internal/metrics"
	"github.com/batchlens/batchlens/internal/query"
	"github.com/batchlens/batchlens/internal/store"
	"github.com/batchlens/batchlens/internal/store/sqlite"
	"github.com/batchlens/batchlens/internal/ui"
	rusage "github.com/batchlens/batchlens/internal/usage"
	"github.com/batchlens/batchlens/internal/web"
)

// common holds the flags serve and demo share.
type common struct {
	db        string
	listen    string
	logLevel  string
	dogstatsd string
	statsdInt time.Duration
	// Resource usage: how often kubelets are sampled, how long raw
	// samples and per-CronJob rollups are kept.
	sampleInterval          time.Duration
	retentionRaw, retention time.Duration
}

func (c *common) register(f *flags, defaultDB string) {
	f.string(&c.db, "db", defaultDB, "SQLite database file")
	f.string(&c.listen, "listen", "127.0.0.1:8080", "address of the HTTP server (dashboards, API, /metrics)")
	f.string(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	f.string(&c.dogstatsd, "dogstatsd", "", "DogStatsD address (host:port, unix:///path) to send the exact counts to (default: none)")
	f.duration(&c.statsdInt, "dogstatsd-interval", 10*time.Second, "how often --dogstatsd sends")
	f.duration(&c.sampleInterval, "sample-interval", 15*time.Second, "how often the kubelets' resource usage is sampled")
	f.days(&c.retentionRaw, "retention-raw", 7*24*time.Hour, "how long raw usage samples are kept (e.g. 7d)")
	f.days(&c.retention, "retention-rollup", 90*24*time.Hour, "how long per-CronJob usage rollups are kept (e.g. 90d)")
}

// check refuses settings that cannot work.
func (c *common) check() error {
	switch {
	case c.sampleInterval < time.Second:
		return fmt.Errorf("--sample-interval %s: want at least 1s", c.sampleInterval)
	case c.retentionRaw <= 0 || c.retention <= 0:
		return fmt.Errorf("--retention-raw and --retention-rollup must be positive")
	}
	return nil
}

// app is the part of the pipeline after the ledger: store, batching writer
// and HTTP server.
type app struct {
	log       *slog.Logger
	store     store.Store
	batcher   *store.Batcher
	ln        net.Listener
	statsd    *statsd.Client // nil without --dogstatsd
	every     time.Duration  // how often statsd sends
	retention rusage.Retention
	// usage reports whether resource usage can be sampled (nil: it can).
	usage func() error
}

func openApp(ctx context.Context, c common, log *slog.Logger) (*app, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, c.db)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", c.db, err)
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("listen on %s: %w", c.listen, err)
	}
	a := &app{
		log:       log,
		store:     st,
		batcher:   store.NewBatcher(st, log, 5000, 250*time.Millisecond),
		ln:        ln,
		retention: rusage.Retention{Raw: c.retentionRaw, Rollup: c.retention},
	}
	if c.dogstatsd != "" {
		if c.statsdInt <= 0 {
			ln.Close()
			st.Close()
			return nil, fmt.Errorf("--dogstatsd-interval %s: must be positive", c.statsdInt)
		}
		a.every = c.statsdInt
		if a.statsd, err = statsd.New(c.dogstatsd, statsd.WithoutTelemetry()); err != nil {
			ln.Close()
			st.Close()
			return nil, fmt.Errorf("--dogstatsd %s: %w", c.dogstatsd, err)
		}
	}
	return a, nil
}

// url is where the dashboards are served.
func (a *app) url() string {
	addr := a.ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port)) + "/"
}

// run serves HTTP and runs the batcher and the given workers until ctx ends
// or one of them fails, then shuts everything down and closes the store.
func (a *app) run(ctx context.Context, ready func() error, workers ...func(context.Context) error) error {
	defer a.store.Close()
	engine := query.New(a.store, time.Now)
	collector := metrics.NewCollector(a.store, time.Now, a.log, 10*time.Second, a.batcher)
	if a.statsd != nil {
		defer a.statsd.Close()
		workers = append(workers, metrics.NewStatsD(a.statsd, a.store, time.Now, a.log, a.every).Run)
	}
	if a.usage != nil {
		engine.WithUsageStatus(a.usage)
	}
	srv := &http.Server{
		Handler: web.New(engine, a.log, web.WithReady(ready),
			web.WithHandler("GET /metrics", metrics.Handler(collector, a.log)),
			web.WithHandler("GET /", ui.Handler())),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	g, gctx := errgroup.WithContext(ctx)
	batcherDone := make(chan struct{})
	go func() {
		a.batcher.Run(gctx)
		close(batcherDone)
	}()
	g.Go(func() error {
		if err := srv.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	g.Go(func() error { return a.retention.Run(gctx, a.store, a.log) })
	for _, w := range workers {
		g.Go(func() error { return w(gctx) })
	}
	err := g.Wait()
	<-batcherDone
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	a.log.Info("stopped")
	return nil
}
