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
	for _, ns := range namespaces {
		batch, core := client.BatchV1(), client.CoreV1()
		jobs := informer(w, &batchv1.Job{}, opts.LabelSelector, batch.Jobs(ns))
		w.jobs = append(w.jobs, batchlisters.NewJobLister(jobs.GetIndexer()))
		informer(w, &batchv1.CronJob{}, opts.LabelSelector, batch.CronJobs(ns))
		pods := informer(w, &corev1.Pod{}, opts.LabelSelector, core.Pods(ns))
		w.pods = append(w.pods, corelisters.NewPodLister(pods.GetIndexer()))
		informer(w, &corev1.Event{}, "", core.Events(ns))
	}
	return w
}

// listWatcher is the List and Watch of a typed client (client.CoreV1().Pods(ns), …).
type listWatcher[L runtime.Object] interface {
	// List lists the objects, as the typed client does.
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	// Watch watches the objects, as the typed client does.
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// informer builds one informer over c, with selector as label selector
// when not empty, whose list and watch calls ride out an unreachable or
// restarting API server (see reconnect).
func informer[L runtime.Object](w *Watcher, obj runtime.Object, selector string, c listWatcher[L]) cache.SharedIndexInformer {
	what := fmt.Sprintf("%T", obj)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			if selector != "" {
				o.LabelSelector = selector
			}
			return reconnect(ctx, w.log, "list "+what, func() (runtime.Object, error) { return c.List(ctx, o) })
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			if selector != "" {
				o.LabelSelector = selector
			}
			return reconnect(ctx, w.log, "watch "+what, func() (watch.Interface, error) { return c.Watch(ctx, o) })
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
