// Package demo runs the simulated fleet (package sim) through batchlens'
// real pipeline: a client-go fake clientset stands in for the API server, so
// the same informers, ledger and store see it as they would a cluster.
package demo

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/batchlens/batchlens/internal/sim"
)

// Cluster is an in-process stand-in for an API server, backed by a fake
// clientset. Like the API server, it stamps a rising resourceVersion on
// every write.
type Cluster struct {
	Client *fake.Clientset
	rv     atomic.Int64
}

// NewCluster returns an empty Cluster.
func NewCluster() *Cluster {
	return &Cluster{Client: fake.NewClientset()}
}

// Apply performs one simulated operation. The op's object is copied, never
// changed.
func (c *Cluster) Apply(ctx context.Context, op sim.Op) error {
	obj := op.Object.DeepCopyObject()
	meta, ok := obj.(metav1.Object)
	if !ok {
		return fmt.Errorf("op object %T has no metadata", obj)
	}
	meta.SetResourceVersion(strconv.FormatInt(c.rv.Add(1), 10))
	ns, name := meta.GetNamespace(), meta.GetName()
	var err error
	switch o := obj.(type) {
	case *batchv1.CronJob:
		api := c.Client.BatchV1().CronJobs(ns)
		err = write(ctx, op.Verb, name, o, api.Create, api.Update, api.Delete)
	case *batchv1.Job:
		api := c.Client.BatchV1().Jobs(ns)
		err = write(ctx, op.Verb, name, o, api.Create, api.Update, api.Delete)
	case *corev1.Pod:
		api := c.Client.CoreV1().Pods(ns)
		err = write(ctx, op.Verb, name, o, api.Create, api.Update, api.Delete)
	case *corev1.Event:
		api := c.Client.CoreV1().Events(ns)
		err = write(ctx, op.Verb, name, o, api.Create, api.Update, api.Delete)
	default:
		return fmt.Errorf("op object %T is not a watched kind", obj)
	}
	if err != nil {
		return fmt.Errorf("%s %T %s/%s: %w", op.Verb, obj, ns, name, err)
	}
	return nil
}

func write[T runtime.Object](ctx context.Context, verb sim.Verb, name string, obj T,
	create func(context.Context, T, metav1.CreateOptions) (T, error),
	update func(context.Context, T, metav1.UpdateOptions) (T, error),
	del func(context.Context, string, metav1.DeleteOptions) error) error {
	var err error
	switch verb {
	case sim.Create:
		_, err = create(ctx, obj, metav1.CreateOptions{})
	case sim.Update:
		_, err = update(ctx, obj, metav1.UpdateOptions{})
	case sim.Delete:
		err = del(ctx, name, metav1.DeleteOptions{})
	default:
		err = fmt.Errorf("unknown verb %v", verb)
	}
	return err
}

// Clock is a settable clock for the watcher's observation times.
type Clock struct{ ns atomic.Int64 }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }

// Now reads the clock.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }
