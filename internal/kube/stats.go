package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/ledger"
	"github.com/batchlens/batchlens/internal/usage"
)

var _ usage.Source = (*NodeStats)(nil)

// NodeStats reads kubelets' stats through the API server's node proxy
// (GET /api/v1/nodes/{node}/proxy/…), which needs get on nodes/proxy.
type NodeStats struct {
	client kubernetes.Interface
	rest   rest.Interface
}

// NewNodeStats returns a usage.Source over client's core REST client.
func NewNodeStats(client kubernetes.Interface) *NodeStats {
	return &NodeStats{client: client, rest: client.CoreV1().RESTClient()}
}

// Allowed asks the API server whether batchlens may get nodes/proxy (a
// SelfSubjectAccessReview, which every authenticated user may create).
func (n *NodeStats) Allowed(ctx context.Context) (bool, error) {
	r, err := n.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: "get", Resource: "nodes", Subresource: "proxy"}},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("review access to nodes/proxy: %w", err)
	}
	return r.Status.Allowed, nil
}

// Summary reads the node's Summary API, decoded with the kubelet's types.
func (n *NodeStats) Summary(ctx context.Context, node string) (*statsv1alpha1.Summary, error) {
	b, err := n.rest.Get().AbsPath("/api/v1/nodes", node, "proxy", "stats", "summary").
		SetHeader("Accept", "application/json").Do(ctx).Raw()
	if err != nil {
		return nil, proxyError(node, "stats/summary", err)
	}
	var s statsv1alpha1.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("node %s: decode stats summary: %w", node, err)
	}
	return &s, nil
}

// CAdvisor streams the node's cAdvisor metrics.
func (n *NodeStats) CAdvisor(ctx context.Context, node string) (io.ReadCloser, error) {
	rc, err := n.rest.Get().AbsPath("/api/v1/nodes", node, "proxy", "metrics", "cadvisor").
		SetHeader("Accept", "text/plain").Stream(ctx)
	if err != nil {
		return nil, proxyError(node, "metrics/cadvisor", err)
	}
	return rc, nil
}

func proxyError(node, path string, err error) error {
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("node %s: %s: %w: %w", node, path, usage.ErrForbidden, err)
	}
	return fmt.Errorf("node %s: %s: %w", node, path, err)
}

// TrackedPods returns the pods whose usage batchlens samples: the watched
// pods that run on a node (phase Running), with their owners and their
// containers' memory limits. It reads the informer caches: none before
// they have synced.
func (w *Watcher) TrackedPods() []usage.Pod {
	if !w.ready.Load() {
		return nil
	}
	var out []usage.Pod
	for _, l := range w.pods {
		pods, err := l.List(labels.Everything())
		if err != nil {
			continue // a lister over a cache does not fail
		}
		for _, p := range pods {
			if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning {
				continue
			}
			tp := usage.Pod{UID: string(p.UID), Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName}
			if ref := ledger.JobOf(p); ref != nil {
				tp.RunUID = string(ref.UID)
				tp.CronJob = w.cronJobOf(p.Namespace, ref.Name, string(ref.UID))
			}
			for _, c := range p.Spec.Containers {
				if m := c.Resources.Limits.Memory(); !m.IsZero() {
					if tp.MemoryLimits == nil {
						tp.MemoryLimits = map[string]int64{}
					}
					tp.MemoryLimits[c.Name] = m.Value()
				}
			}
			out = append(out, tp)
		}
	}
	return out
}
