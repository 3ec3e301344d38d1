// Package kube watches a cluster's CronJobs, Jobs, Pods and Events with
// shared informers and hands every change to the ledger.
package kube

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ClientOptions says how to reach the API server.
type ClientOptions struct {
	Kubeconfig string // path; empty means $KUBECONFIG, ~/.kube/config, then in-cluster
	Context    string // kubeconfig context; empty means the current one
	UserAgent  string
}

// Config resolves a REST config the way kubectl does: an explicit
// kubeconfig, else $KUBECONFIG and ~/.kube/config, else the in-cluster
// service account. It asks for protobuf, which the built-in types support
// and which costs the API server and batchlens less than JSON.
func Config(o ClientOptions) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	if o.UserAgent != "" {
		cfg.UserAgent = o.UserAgent
	}
	return cfg, nil
}

// NewClient returns a clientset for cfg.
func NewClient(cfg *rest.Config) (kubernetes.Interface, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create client: %w", err)
	}
	return cs, nil
}
