// Package sim simulates a fleet of data-science batch models on Kubernetes:
// CronJobs that create Jobs that create Pods, with the outcomes such fleets
// see (OOM kills, crash loops, image pulls that never finish, evictions,
// deadlines, unschedulable pods, …). It produces the objects, in the shape
// kube-apiserver, kube-controller-manager, kube-scheduler and the kubelet
// give them, as a stream of create, update and delete operations, and it
// records the ground truth of what happened, so that everything batchlens
// derives from the stream can be checked exactly.
//
// A Sim is deterministic: the same Config yields the same ops, however
// Advance is called. All times are whole seconds, as the API serializes them.
package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/robfig/cron/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Verb is what an Op does to its object.
type Verb int

// The verbs, as a watch reports them (ADDED, MODIFIED, DELETED).
const (
	Create Verb = iota + 1
	Update
	Delete
)

func (v Verb) String() string {
	switch v {
	case Create:
		return "Create"
	case Update:
		return "Update"
	case Delete:
		return "Delete"
	}
	return fmt.Sprintf("Verb(%d)", int(v))
}

// Op is one change to one object, as a watch would deliver it. Object is a
// *batchv1.CronJob, *batchv1.Job, *corev1.Pod or *corev1.Event, never
// shared with another Op nor changed after it is returned; for Delete it is
// the object's last state.
type Op struct {
	At     time.Time
	Verb   Verb
	Object runtime.Object
}

// Config sets up a Sim.
type Config struct {
	Cluster string // recorded in the Truth; the objects do not carry it
	Fleet   []Spec
	Seed    int64
	// Start is when the fleet's CronJobs are created, truncated to the
	// second. The simulation runs from there.
	Start time.Time
}

// Sim is a simulated cluster running a fleet. It is not safe for concurrent use.
type Sim struct {
	seed  uint64
	now   time.Time // time of the action being run
	queue queue
	out   []Op

	seq                   uint64 // actions scheduled so far
	ids, rv, events, runs uint64 // counters for UIDs, resourceVersions, event names, runs

	nodes  []*node
	pulled map[pullKey]bool // images present on nodes
	series []*series        // the scheduler recorder's cache
	// liveEvents maps each Event that exists to its last written version.
	liveEvents map[types.UID]*corev1.Event
	truth      *Truth
}

// New returns a Sim of cfg.Fleet from cfg.Start. It panics if a Spec is
// invalid (see Spec).
func New(cfg Config) *Sim {
	s := &Sim{
		seed:   uint64(cfg.Seed),
		now:    cfg.Start.UTC().Truncate(time.Second),
		pulled: make(map[pullKey]bool),
		truth:  newTruth(cfg.Cluster),
	}
	for i, n := range nodeTable {
		s.nodes = append(s.nodes, &node{name: n.name, ip: n.ip, subnet: i + 1})
	}
	for i, sp := range cfg.Fleet {
		m := newMember(sp, s.newRand(uint64(i)|1<<62))
		if m.Schedule == "" {
			s.startGenerator(m, uint64(i))
			continue
		}
		sched, err := cron.ParseStandard(m.Schedule)
		if err != nil {
			panic(fmt.Sprintf("sim: %s/%s: schedule %q: %v", m.Namespace, m.Name, m.Schedule, err))
		}
		s.after(0, func() { s.createCronJob(m, sched) })
	}
	s.after(seriesFinish, func() { s.seriesTick(1) })
	return s
}

// Advance runs the simulation up to and including to, and returns every op
// with At in (the previous to, to], sorted by At; the first call starts at
// cfg.Start. A to before the previous one returns nothing.
func (s *Sim) Advance(to time.Time) []Op {
	limit := to.Unix()
	for len(s.queue) > 0 && s.queue[0].at <= limit {
		a := s.queue.pop()
		s.now = time.Unix(a.at, 0).UTC()
		a.fn()
	}
	out := s.out
	s.out = nil
	return out
}

// Truth returns the ground truth of the ops returned so far. It is the same
// Truth on every call and keeps up with later Advance calls.
func (s *Sim) Truth() *Truth { return s.truth }

func (s *Sim) emit(v Verb, obj runtime.Object) {
	s.out = append(s.out, Op{At: s.now, Verb: v, Object: obj})
}

// at runs fn at t (not before now), after every action already due then.
func (s *Sim) at(t time.Time, fn func()) {
	sec := max(t.Unix(), s.now.Unix())
	s.seq++
	s.queue.push(action{at: sec, seq: s.seq, fn: fn})
}

// after runs fn d (rounded down to whole seconds) from now.
func (s *Sim) after(d time.Duration, fn func()) { s.at(s.now.Add(d), fn) }

// newRand returns the random source of the next run, or of a generator:
// independent of every other, so one run's draws never shift another's.
func (s *Sim) newRand(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(s.seed, mix(stream)))
}

// action is a piece of work due at a second. Ties run in the order scheduled.
type action struct {
	at  int64
	seq uint64
	fn  func()
}

// queue is a binary min-heap of actions by (at, seq).
type queue []action

func (q queue) less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}

func (q *queue) push(a action) {
	*q = append(*q, a)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *queue) pop() action {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = action{}
	h = h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// node is a worker node of the simulated cluster.
type node struct {
	name   string
	ip     string
	subnet int    // pod CIDR 10.244.<subnet>.0/24
	podIPs uint32 // pod IPs handed out so far
}

func (n *node) nextPodIP() string {
	n.podIPs++
	return fmt.Sprintf("10.244.%d.%d", n.subnet, 2+n.podIPs%250)
}

type pullKey struct{ node, image string }

// nodeTable is the simulated cluster's worker nodes.
var nodeTable = [...]struct{ name, ip string }{
	{"ip-10-42-11-23.eu-west-1.compute.internal", "10.42.11.23"},
	{"ip-10-42-12-87.eu-west-1.compute.internal", "10.42.12.87"},
	{"ip-10-42-13-140.eu-west-1.compute.internal", "10.42.13.140"},
	{"ip-10-42-21-9.eu-west-1.compute.internal", "10.42.21.9"},
	{"ip-10-42-22-201.eu-west-1.compute.internal", "10.42.22.201"},
	{"ip-10-42-23-66.eu-west-1.compute.internal", "10.42.23.66"},
}
