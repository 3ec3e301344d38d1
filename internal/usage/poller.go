package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/batchlens/batchlens/internal/model"
)

// MaxBackoff bounds how long the Poller leaves a node that does not answer,
// or all of them after access was refused.
const MaxBackoff = 5 * time.Minute

// maxParallel bounds how many nodes one poll reads at once.
const maxParallel = 8

// PollerOptions configures a Poller.
type PollerOptions struct {
	Cluster  string
	Interval time.Duration // between polls; 15 s when zero
	// Pods lists the pods to sample now: running, on a node.
	Pods func() []Pod
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Allowed, when set, tells whether batchlens may read the nodes'
	// stats at all; it is asked at the first poll and, while access is
	// refused, at each retry, so a missing permission shows at once, even
	// while no tracked pod runs. An error leaves the answer to the nodes.
	Allowed func(ctx context.Context) (bool, error)
}

// Poller samples the tracked pods' nodes every interval and hands the
// samples to a Sink. When access to the nodes' stats is refused it logs one
// warning, reports the reason through Status, and retries after a back-off
// that doubles from the interval up to MaxBackoff;
// a node that does not answer gets a warning and is retried after a back-off
// that doubles up to MaxBackoff, while the other nodes are still sampled.
type Poller struct {
	src     Source
	sink    Sink
	log     *slog.Logger
	opts    PollerOptions
	sampler *Sampler

	mu        sync.Mutex
	asked     bool                  // Allowed was asked once
	forbidden error                 // why access is refused; nil when it is not
	retryAt   time.Time             // when to try again after a refusal
	refusals  int                   // refusals in a row
	nodes     map[string]*nodeState // nodes that failed
}

type nodeState struct {
	failures int
	retryAt  time.Time
}

// NewPoller returns a Poller reading src and writing to sink, logging to
// log (nothing when nil).
func NewPoller(src Source, sink Sink, log *slog.Logger, opts PollerOptions) *Poller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = 15 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Poller{src: src, sink: sink, log: log, opts: opts,
		sampler: NewSampler(opts.Cluster, opts.Interval), nodes: map[string]*nodeState{}}
}

// Status returns nil while resource usage can be sampled, and otherwise
// why not (access to the nodes' stats refused).
func (p *Poller) Status() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.forbidden
}

// Run polls every interval until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		p.Poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll samples every node that runs a tracked pod once, except nodes
// backing off, and hands the samples to the sink.
func (p *Poller) Poll(ctx context.Context) {
	now := p.opts.Now()
	p.mu.Lock()
	skip := p.forbidden != nil && now.Before(p.retryAt)
	p.mu.Unlock()
	if skip || !p.permitted(ctx, now) {
		return
	}
	byNode := map[string]map[string]Pod{}
	for _, pod := range p.opts.Pods() {
		if pod.Node == "" {
			continue
		}
		if byNode[pod.Node] == nil {
			byNode[pod.Node] = map[string]Pod{}
		}
		byNode[pod.Node][pod.UID] = pod
	}
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, maxParallel)
		mu   sync.Mutex
		all  model.Facts
		seen bool // some node answered
	)
	for node, pods := range byNode {
		if !p.due(node, now) {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			l, err := p.look(ctx, node, now)
			if err != nil {
				p.failed(ctx, node, err, now)
				return
			}
			p.answered(node)
			mu.Lock()
			defer mu.Unlock()
			seen = true
			// The sampler keeps each node's state apart, but is not safe
			// for concurrent use.
			all.Samples = append(all.Samples, p.sampler.Sample(l, pods)...)
		})
	}
	wg.Wait()
	if seen {
		p.allowed()
	}
	if len(all.Samples) > 0 {
		if err := p.sink.Add(ctx, all); err != nil && ctx.Err() == nil {
			p.log.Warn("resource samples queued, store write failed", "err", err)
		}
	}
}

// permitted asks opts.Allowed, at the first poll and while access is
// refused, and reports whether to go on polling the nodes.
func (p *Poller) permitted(ctx context.Context, now time.Time) bool {
	p.mu.Lock()
	ask := p.opts.Allowed != nil && (!p.asked || p.forbidden != nil)
	p.asked = true
	p.mu.Unlock()
	if !ask {
		return true
	}
	ok, err := p.opts.Allowed(ctx)
	switch {
	case err != nil:
		p.log.Debug("cannot review access to kubelet stats; the nodes will tell", "err", err)
		return true
	case !ok:
		p.failed(ctx, "", fmt.Errorf("%w: the API server's access review denies get on nodes/proxy", ErrForbidden), now)
		return false
	}
	p.allowed()
	return true
}

// look reads one node's Summary and cAdvisor metrics. A failure of cAdvisor
// alone costs that look its disk I/O only.
func (p *Poller) look(ctx context.Context, node string, now time.Time) (Look, error) {
	sum, err := p.src.Summary(ctx, node)
	if err != nil {
		return Look{}, fmt.Errorf("stats summary: %w", err)
	}
	l := Look{Node: node, At: now, Summary: sum}
	rc, err := p.src.CAdvisor(ctx, node)
	if err == nil {
		l.Disk, err = ParseCAdvisor(rc)
		rc.Close()
	}
	if err != nil {
		p.log.Debug("no disk I/O from cAdvisor", "node", node, "err", err)
	}
	return l, nil
}

// due reports whether node is not backing off at now.
func (p *Poller) due(node string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[node]
	return n == nil || !now.Before(n.retryAt)
}

// failed records a failed look at node: a refusal makes resource usage
// unavailable (one warning until it is allowed again); anything else backs
// the node off.
func (p *Poller) failed(ctx context.Context, node string, err error, now time.Time) {
	if ctx.Err() != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if errors.Is(err, ErrForbidden) {
		// A restarting API server refuses everything until its RBAC
		// caches sync: retry soon at first, then less and less often.
		if p.forbidden == nil {
			p.forbidden = fmt.Errorf("batchlens may not read the nodes' kubelet stats (it needs get on nodes/proxy, see deploy/rbac-usage.yaml): %w", err)
			p.log.Warn("resource usage unavailable: no permission to read kubelet stats through the API server; "+
				"grant get on nodes/proxy (deploy/rbac-usage.yaml). Everything else keeps working.", "node", node, "err", err)
		}
		if !p.retryAt.After(now) { // once per poll, however many nodes refused
			p.refusals++
			p.retryAt = now.Add(min(p.opts.Interval<<min(p.refusals-1, 16), MaxBackoff))
		}
		return
	}
	n := p.nodes[node]
	if n == nil {
		n = &nodeState{}
		p.nodes[node] = n
	}
	n.failures++
	backoff := min(p.opts.Interval<<min(n.failures-1, 16), MaxBackoff)
	n.retryAt = now.Add(backoff)
	p.log.Warn("node's kubelet stats unavailable; its pods' usage is not sampled until it answers",
		"node", node, "failures", n.failures, "retryIn", backoff, "err", err)
}

// answered records that node answered.
func (p *Poller) answered(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.nodes[node]; n != nil {
		p.log.Info("node's kubelet stats available again", "node", node, "after", n.failures)
		delete(p.nodes, node)
	}
}

// allowed records that access is no longer refused.
func (p *Poller) allowed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refusals = 0
	if p.forbidden != nil {
		p.forbidden = nil
		p.log.Info("resource usage available again: kubelet stats can be read")
	}
}
