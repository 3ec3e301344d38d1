// Package usage samples the resource usage of the pods batchlens tracks:
// it reads each node's kubelet stats (the Summary API, decoded with the
// kubelet's own types, and the cAdvisor metrics for disk I/O, parsed with
// the Prometheus text parser), turns cumulative counters into what they grew
// by since the previous look (handling counter resets when a container
// restarts), and hands model.Sample facts to the store.
//
// The Sampler is pure: it turns looks into samples. The Poller runs it on
// every node with tracked pods, every interval, through a Source: the
// kubelet through the API server's node proxy (package kube), or the
// simulated fleet's usage profile (package demo).
package usage

import (
	"context"
	"errors"
	"io"

	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/model"
)

// ErrForbidden is wrapped by a Source's errors when batchlens may not read
// a node's stats (RBAC: get on nodes/proxy).
var ErrForbidden = errors.New("forbidden")

// Source reads the kubelet stats of one node.
type Source interface {
	// Summary returns the node's Summary API document
	// (GET /stats/summary). Its error wraps ErrForbidden when access is
	// refused.
	Summary(ctx context.Context, node string) (*statsv1alpha1.Summary, error)

	// CAdvisor returns the node's cAdvisor metrics in the Prometheus text
	// format (GET /metrics/cadvisor); the caller closes it. Its error wraps
	// ErrForbidden when access is refused.
	CAdvisor(ctx context.Context, node string) (io.ReadCloser, error)
}

// Sink receives the samples of every look.
type Sink interface {
	// Add queues facts for writing; an error means they are not written
	// yet (they stay queued) and is only logged.
	Add(ctx context.Context, f model.Facts) error
}

// Pod is a pod the sampler tracks: where it runs, what owns it, and its
// containers' memory limits (bytes, by container name; absent: none).
type Pod struct {
	UID          string
	Namespace    string
	Name         string
	Node         string
	RunUID       string
	CronJob      string
	MemoryLimits map[string]int64
}
