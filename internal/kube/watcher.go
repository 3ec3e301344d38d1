package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
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
	factories []factoryPair
	jobs      []batchlisters.JobLister
	pods      []corelisters.PodLister
	synced    []cache.InformerSynced
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
	for _, ns := range namespaces {
		p := factoryPair{events: informers.NewSharedInformerFactoryWithOptions(client, opts.Resync,
			informers.WithNamespace(ns), informers.WithTransform(trim))}
		p.workloads = p.events
		if opts.LabelSelector != "" {
			// Events carry no workload labels, so only CronJobs, Jobs and
			// Pods are filtered: they get a factory of their own.
			p.workloads = informers.NewSharedInformerFactoryWithOptions(client, opts.Resync,
				informers.WithNamespace(ns), informers.WithTransform(trim),
				informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = opts.LabelSelector }))
		}
		w.factories = append(w.factories, p)
	}
	return w
}

// factoryPair holds one namespace's informer factories: one for Events and
// one for workloads, the same one unless a label selector is set.
type factoryPair struct {
	events, workloads informers.SharedInformerFactory
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
	for _, p := range w.factories {
		cj := p.workloads.Batch().V1().CronJobs()
		jobs := p.workloads.Batch().V1().Jobs()
		pods := p.workloads.Core().V1().Pods()
		events := p.events.Core().V1().Events()
		w.jobs = append(w.jobs, jobs.Lister())
		w.pods = append(w.pods, pods.Lister())
		for _, inf := range []cache.SharedIndexInformer{cj.Informer(), jobs.Informer(), pods.Informer(), events.Informer()} {
			reg, err := inf.AddEventHandler(w.handler(ctx))
			if err != nil {
				return fmt.Errorf("add event handler: %w", err)
			}
			w.synced = append(w.synced, reg.HasSynced)
		}
	}
	for _, p := range w.factories {
		p.events.Start(ctx.Done())
		p.workloads.Start(ctx.Done())
	}
	defer func() {
		for _, p := range w.factories {
			p.events.Shutdown()
			p.workloads.Shutdown()
		}
	}()
	w.log.Info("watching cluster", "cluster", w.opts.Cluster, "namespaces", w.opts.Namespaces, "labelSelector", w.opts.LabelSelector)
	if !cache.WaitForCacheSync(ctx.Done(), w.synced...) {
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
