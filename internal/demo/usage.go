package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/sim"
	"github.com/batchlens/batchlens/internal/usage"
)

var _ usage.Source = (*Kubelets)(nil)

// Kubelets serves the simulated nodes' kubelet stats from the fleet's usage
// profile (sim.Truth.Stats and CAdvisor) at the time of Clock: the demo's
// stand-in for the API server's node proxy, which a fake clientset cannot
// serve. Mu guards the Truth against the simulation advancing meanwhile.
type Kubelets struct {
	Truth *sim.Truth
	Clock func() time.Time
	Mu    *sync.Mutex
}

// Summary returns the node's Summary at the clock's time.
func (k *Kubelets) Summary(_ context.Context, node string) (*statsv1alpha1.Summary, error) {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return k.Truth.Stats(node, k.Clock()), nil
}

// CAdvisor returns the node's cAdvisor metrics at the clock's time.
func (k *Kubelets) CAdvisor(_ context.Context, node string) (io.ReadCloser, error) {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	return io.NopCloser(bytes.NewReader(k.Truth.CAdvisor(node, k.Clock()))), nil
}

// Pods returns the pods with a running container at the clock's time, as
// the watcher would track them.
func (k *Kubelets) Pods() []usage.Pod {
	k.Mu.Lock()
	defer k.Mu.Unlock()
	var out []usage.Pod
	for _, p := range k.Truth.Running(k.Clock()) {
		out = append(out, usage.Pod{UID: p.UID, Namespace: p.Namespace, Name: p.Name, Node: p.Node,
			RunUID: p.RunUID, CronJob: p.CronJob, MemoryLimits: map[string]int64{"main": p.MemoryLimit}})
	}
	return out
}

// SampleHistory polls the simulated kubelets every interval of [from, to)
// on the simulated clock, through the same Poller as live sampling, and
// hands the samples to sink: resource usage history for a backfill. mu
// guards truth (see Kubelets). progress, when set, is told after each
// simulated hour.
func SampleHistory(ctx context.Context, truth *sim.Truth, mu *sync.Mutex, sink usage.Sink, cluster string, from, to time.Time,
	interval time.Duration, progress func(at time.Time)) error {
	clock := &Clock{}
	k := &Kubelets{Truth: truth, Clock: clock.Now, Mu: mu}
	p := usage.NewPoller(k, sink, nil, usage.PollerOptions{Cluster: cluster, Interval: interval, Pods: k.Pods, Now: clock.Now})
	hour := from.Truncate(time.Hour)
	for at := from; at.Before(to); at = at.Add(interval) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sample history: %w", err)
		}
		clock.Set(at)
		p.Poll(ctx)
		if h := at.Truncate(time.Hour); progress != nil && !h.Equal(hour) {
			hour = h
			progress(at)
		}
	}
	return nil
}
