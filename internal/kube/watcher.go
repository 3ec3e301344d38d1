package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/batchlens/batchlens/internal/ledger"
	"github.com/batchlens/batchlens/internal/model"
)

// Sink receives the facts of every change.
type Sink interface {
	// Add queues facts for writing; an error means they are not written yet
	// (they stay queued) and is only logged by the watcher.
	Add(ctx context.Context, f model.Facts) error
}

// Options configures a Watcher.
type Options struct {
	Cluster       string
	Namespaces    []string // empty: all namespaces
	LabelSelector string   // applied to CronJobs, Jobs and Pods (not Events)
	Resync        time.Duration
	// Now is the observation clock; nil means time.Now. The demo and tests
	// pass a simulated clock.
	Now func() time.Time
}

// Watcher runs the informers and feeds the ledger's facts to a Sink.
type Watcher struct {
	opts      Options
	client    kubernetes.Interface
	sink      Sink
	log       *slog.Logger
	ledger    *ledger.Ledger
	informers []cache.SharedIndexInformer
	jobs      []batchlisters.JobLister
	pods      []corelisters.PodLister
	handled   atomic.Uint64
	ready     atomic.Bool
}

// New builds a Watcher; nothing runs until Run.
func New(client kubernetes.Interface, sink Sink, log *slog.Logger, opts Options) *Watcher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	w := &Watcher{opts: opts, client: client, sink: sink, log: log}
	w.ledger = &ledger.Ledger{Cluster: opts.Cluster, CronJobOf: w.cronJobOf}
	namespaces := opts.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	// Events carry no workload labels, so only CronJobs, Jobs and Pods take
	// the label selector.
	workload := func(o *metav1.ListOptions) { o.LabelSelector = opts.LabelSelector }
	for _, ns := range namespaces {
		batch, core := client.BatchV1(), client.CoreV1()
		jobs := w.informer(&batchv1.Job{}, workload,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return batch.Jobs(ns).List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return batch.Jobs(ns).Watch(ctx, o)
			})
		w.jobs = append(w.jobs, batchlisters.NewJobLister(jobs.GetIndexer()))
		w.informer(&batchv1.CronJob{}, workload,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return batch.CronJobs(ns).List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return batch.CronJobs(ns).Watch(ctx, o)
			})
		pods := w.informer(&corev1.Pod{}, workload,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return core.Pods(ns).List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return core.Pods(ns).Watch(ctx, o)
			})
		w.pods = append(w.pods, corelisters.NewPodLister(pods.GetIndexer()))
		w.informer(&corev1.Event{}, nil,
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return core.Events(ns).List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return core.Events(ns).Watch(ctx, o)
			})
	}
	return w
}

// informer builds one informer whose list and watch calls ride out an
// unreachable or restarting API server (see reconnect).
func (w *Watcher) informer(obj runtime.Object, tweak func(*metav1.ListOptions),
	list func(context.Context, metav1.ListOptions) (runtime.Object, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error)) cache.SharedIndexInformer {
	what := fmt.Sprintf("%T", obj)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			if tweak != nil && w.opts.LabelSelector != "" {
				tweak(&o)
			}
			return reconnect(ctx, w.log, "list "+what, func() (runtime.Object, error) { return list(ctx, o) })
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			if tweak != nil && w.opts.LabelSelector != "" {
				tweak(&o)
			}
			return reconnect(ctx, w.log, "watch "+what, func() (watch.Interface, error) { return watchFn(ctx, o) })
		},
	}
	// Like client-go's generated informers: a client that cannot stream
	// the initial list as a watch (the fake clientset) gets plain lists.
	inf := cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, w.client), obj, cache.SharedIndexInformerOptions{
		ResyncPeriod: w.opts.Resync,
		Indexers:     cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
	})
	if err := inf.SetTransform(trim); err != nil {
		panic(err) // only fails once the informer has started
	}
	w.informers = append(w.informers, inf)
	return inf
}

// Handled reports how many informer notifications have been fully handled
// (their facts handed to the sink). Tests use it as a barrier.
func (w *Watcher) Handled() uint64 { return w.handled.Load() }

// Ready returns nil once every informer's cache has synced.
func (w *Watcher) Ready() error {
	if !w.ready.Load() {
		return errors.New("informer caches not synced yet")
	}
	return nil
}

// Run starts the informers, waits for their caches, and blocks until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	var synced []cache.InformerSynced
	for _, inf := range w.informers {
		reg, err := inf.AddEventHandler(w.handler(ctx))
		if err != nil {
			return fmt.Errorf("add event handler: %w", err)
		}
		synced = append(synced, reg.HasSynced)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, inf := range w.informers {
		wg.Go(func() { inf.RunWithContext(ctx) })
	}
	w.log.Info("watching cluster", "cluster", w.opts.Cluster, "namespaces", w.opts.Namespaces, "labelSelector", w.opts.LabelSelector)
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return fmt.Errorf("wait for informer caches: %w", ctx.Err())
	}
	w.ready.Store(true)
	w.log.Info("informer caches synced", "handled", w.handled.Load())
	<-ctx.Done()
	return nil
}

func (w *Watcher) handler(ctx context.Context) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.apply(ctx, obj, false) },
		UpdateFunc: func(oldObj, newObj any) {
			if o, n := oldObj.(metav1.Object), newObj.(metav1.Object); o.GetResourceVersion() == n.GetResourceVersion() && o.GetResourceVersion() != "" {
				w.handled.Add(1) // periodic resync: nothing changed
				return
			}
			w.apply(ctx, newObj, false)
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			w.apply(ctx, obj, true)
		},
	}
}

// apply turns one object into facts and hands them to the sink.
func (w *Watcher) apply(ctx context.Context, obj any, deleted bool) {
	defer w.handled.Add(1)
	f, ok := w.ledger.Object(obj, deleted, w.opts.Now())
	if !ok {
		if _, event := obj.(*corev1.Event); !event {
			w.log.Warn("ignoring unexpected object", "type", fmt.Sprintf("%T", obj))
		}
		return
	}
	if err := w.sink.Add(ctx, f); err != nil {
		w.log.Warn("facts queued, store write failed", "err", err)
	}
}

// cronJobOf finds a Job's CronJob in the informer cache.
func (w *Watcher) cronJobOf(namespace, jobName, jobUID string) string {
	for _, l := range w.jobs {
		j, err := l.Jobs(namespace).Get(jobName)
		if err == nil && string(j.UID) == jobUID {
			return ledger.CronJobOf(j)
		}
	}
	return ""
}
