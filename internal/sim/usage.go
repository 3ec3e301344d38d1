package sim

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/store"
)

// The usage profile: what each container attempt uses while it runs,
// deterministic from the seed and the pod's UID (no random draws, so the
// rest of the simulation is the same with or without it). An attempt
// uses a constant share of its CPU request; its memory working set creeps
// linearly from a fifth of its peak at the start to its peak at the end it
// was planned for, where an OOM-killed attempt's peak is its memory limit
// and a Spec's MemoryPeak sets the others'; its ephemeral storage, network
// and disk counters grow at constant rates. The kubelet stats of a node at
// any instant follow from it (Truth.Stats, Truth.CAdvisor).

// attemptUsage is one container attempt and its profile.
type attemptUsage struct {
	attr
	pod       int // index in the Truth's pods
	podUID    string
	podName   string
	runUID    string
	node      string
	podStart  time.Time
	restart   int32 // restart index of the attempt
	start     time.Time
	end       time.Time // zero while it runs
	planned   time.Duration
	nanoCores int64
	memBase   int64 // working set at the start
	memPeak   int64 // … at the planned end
	limit     int64 // memory limit
	// Per second: ephemeral storage written, bytes received and sent,
	// receive errors (per hour), disk bytes read and written.
	storage, rx, tx, rxErrPerHour, read, write int64
}

// maxAttempt bounds how long an attempt runs (the longest deadline of the
// fleet is under it), so a look at an instant scans a bounded window.
const maxAttempt = 6 * time.Hour

// unit draws a number in [0, 1) from the seed, a pod and a salt.
func (s *Sim) unit(podUID string, restart int32, salt uint64) float64 {
	x := s.seed ^ salt*0x9e3779b97f4a7c15 ^ uint64(restart)<<32
	for i := 0; i < len(podUID); i++ {
		x = mix(x ^ uint64(podUID[i]))
	}
	return float64(mix(x)>>11) / (1 << 53)
}

// attemptStarted records the attempt that p starts now and returns its
// index.
func (p *pod) attemptStarted() int {
	s, r := p.s, p.r
	c := r.m.podSpec.Containers[0]
	uid := string(p.obj.UID)
	u := func(salt uint64) float64 { return s.unit(uid, p.restarts, salt) }
	limit := c.Resources.Limits.Memory().Value()
	planned := p.cur.run
	if planned <= 0 {
		planned = max(r.m.ActiveDeadline, time.Minute)
	}
	peakShare := r.m.MemoryPeak
	if peakShare == 0 {
		peakShare = 0.3 + 0.45*u(2)
	}
	if p.cur.reason == reasonOOMKilled {
		peakShare = 1
	}
	a := attemptUsage{
		attr: s.truth.pods[p.fact].attr, pod: p.fact, podUID: uid, podName: p.obj.Name, runUID: string(r.obj.UID),
		node: p.node.name, podStart: p.obj.Status.StartTime.Time, restart: p.restarts, start: s.now, planned: planned,
		nanoCores: int64(float64(c.Resources.Requests.Cpu().MilliValue()) * 1e6 * (0.3 + 0.9*u(1))),
		memPeak:   int64(float64(limit) * peakShare),
		limit:     limit,
		storage:   int64(64<<10 + u(3)*(2<<20)),
		rx:        int64(200<<10 + u(4)*(20<<20)),
		read:      int64(1<<20 + u(6)*(40<<20)),
	}
	if p.obj.Status.StartTime == nil {
		a.podStart = s.now
	}
	a.memBase = a.memPeak / 5
	a.tx = a.rx / 8
	a.write = a.read / 3
	if u(5) < 0.15 { // a flaky network path
		a.rxErrPerHour = int64(20 + u(7)*400)
	}
	return s.truth.attemptStarted(a)
}

func (t *Truth) attemptStarted(a attemptUsage) int {
	t.attempts = append(t.attempts, a)
	i := len(t.attempts) - 1
	if t.byNode == nil {
		t.byNode = map[string][]int{}
	}
	t.byNode[a.node] = append(t.byNode[a.node], i) // in start order: the clock only moves forward
	return i
}

func (t *Truth) attemptEnded(i int, at time.Time) {
	if t.attempts[i].end.IsZero() {
		t.attempts[i].end = at
	}
}

// running reports whether the attempt runs at instant at: start ≤ at < end.
func (a *attemptUsage) running(at time.Time) bool {
	return !at.Before(a.start) && (a.end.IsZero() || at.Before(a.end))
}

// elapsed is how long the attempt has run at at (at most until its end).
func (a *attemptUsage) elapsed(at time.Time) time.Duration {
	end := at
	if !a.end.IsZero() && a.end.Before(end) {
		end = a.end
	}
	return max(0, end.Sub(a.start))
}

// perSecond is rate × d, in whole units.
func perSecond(rate int64, d time.Duration) uint64 {
	return uint64(rate * d.Milliseconds() / 1000)
}

func (a *attemptUsage) cpuNanos(at time.Time) uint64 {
	return uint64(a.nanoCores * a.elapsed(at).Milliseconds() / 1000)
}

func (a *attemptUsage) workingSet(at time.Time) int64 {
	f := min(1, float64(a.elapsed(at))/float64(a.planned))
	return a.memBase + int64(f*float64(a.memPeak-a.memBase))
}

// onNode returns the indexes of the attempts on node that may run at at.
func (t *Truth) onNode(node string, at time.Time) []int {
	idx := t.byNode[node]
	hi := sort.Search(len(idx), func(i int) bool { return t.attempts[idx[i]].start.After(at) })
	var out []int
	for i := hi - 1; i >= 0; i-- {
		a := &t.attempts[idx[i]]
		if a.start.Before(at.Add(-maxAttempt)) {
			break
		}
		if a.running(at) {
			out = append(out, idx[i])
		}
	}
	slices.Reverse(out)
	return out
}

// podTotals sums the pod-level counters of the pod's attempts up to at:
// the pod's network interface lives across container restarts.
func (t *Truth) podTotals(a *attemptUsage, at time.Time) (rx, tx, rxErr uint64) {
	for _, j := range t.byNode[a.node] {
		b := &t.attempts[j]
		if b.podUID != a.podUID || b.start.After(at) {
			continue
		}
		d := b.elapsed(at)
		rx += perSecond(b.rx, d)
		tx += perSecond(b.tx, d)
		rxErr += uint64(b.rxErrPerHour * d.Milliseconds() / 3_600_000)
	}
	return rx, tx, rxErr
}

// RunningPod is a pod with a running container, as batchlens tracks it.
type RunningPod struct {
	UID, Namespace, Name, Node, RunUID, CronJob string
	MemoryLimit                                 int64 // of its one container, "main"
}

// Running returns the pods whose container runs at at, on every node.
func (t *Truth) Running(at time.Time) []RunningPod {
	var out []RunningPod
	for _, n := range nodeTable {
		for _, i := range t.onNode(n.name, at) {
			a := &t.attempts[i]
			out = append(out, RunningPod{UID: a.podUID, Namespace: a.ns, Name: a.podName, Node: a.node,
				RunUID: a.runUID, CronJob: a.cronJob, MemoryLimit: a.limit})
		}
	}
	return out
}

// Nodes returns the names of the simulated cluster's nodes.
func Nodes() []string {
	out := make([]string, len(nodeTable))
	for i, n := range nodeTable {
		out[i] = n.name
	}
	return out
}

// Stats is node's kubelet Summary at at, as the kubelet serves it, for the
// pods whose container runs then.
func (t *Truth) Stats(node string, at time.Time) *statsv1alpha1.Summary {
	tm := metav1.NewTime(at)
	u := func(v uint64) *uint64 { return &v }
	s := &statsv1alpha1.Summary{Node: statsv1alpha1.NodeStats{NodeName: node}}
	for _, i := range t.onNode(node, at) {
		a := &t.attempts[i]
		ws := uint64(a.workingSet(at))
		rss := ws * 9 / 10
		storage := 40<<20 + perSecond(a.storage, a.elapsed(at))
		rx, tx, rxErr := t.podTotals(a, at)
		cpu := &statsv1alpha1.CPUStats{Time: tm, UsageNanoCores: u(uint64(a.nanoCores)), UsageCoreNanoSeconds: u(a.cpuNanos(at))}
		mem := &statsv1alpha1.MemoryStats{Time: tm, WorkingSetBytes: u(ws), RSSBytes: u(rss), UsageBytes: u(ws + ws/8)}
		s.Pods = append(s.Pods, statsv1alpha1.PodStats{
			PodRef:    statsv1alpha1.PodReference{Name: a.podName, Namespace: a.ns, UID: a.podUID},
			StartTime: metav1.NewTime(a.podStart),
			Containers: []statsv1alpha1.ContainerStats{{
				Name: containerName, StartTime: metav1.NewTime(a.start), CPU: cpu, Memory: mem,
				Rootfs: &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(storage - 4096)},
				Logs:   &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(4096)},
			}},
			CPU:    cpu,
			Memory: mem,
			Network: &statsv1alpha1.NetworkStats{Time: tm,
				InterfaceStats: statsv1alpha1.InterfaceStats{Name: "eth0", RxBytes: u(rx), TxBytes: u(tx), RxErrors: u(rxErr), TxErrors: u(0)},
				Interfaces:     []statsv1alpha1.InterfaceStats{{Name: "eth0", RxBytes: u(rx), TxBytes: u(tx), RxErrors: u(rxErr), TxErrors: u(0)}},
			},
			EphemeralStorage: &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(storage)},
		})
	}
	return s
}

// CAdvisor is node's cAdvisor disk I/O counters at at, in the Prometheus
// text format, for the containers running then.
func (t *Truth) CAdvisor(node string, at time.Time) []byte {
	var b bytes.Buffer
	ms := at.UnixMilli()
	for _, m := range []struct {
		name, help string
		rate       func(a *attemptUsage) int64
	}{
		{"container_fs_reads_bytes_total", "Cumulative count of bytes read", func(a *attemptUsage) int64 { return a.read }},
		{"container_fs_writes_bytes_total", "Cumulative count of bytes written", func(a *attemptUsage) int64 { return a.write }},
	} {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", m.name, m.help, m.name)
		for _, i := range t.onNode(node, at) {
			a := &t.attempts[i]
			fmt.Fprintf(&b, "%s{container=%q,device=\"/dev/nvme0n1\",id=\"/kubepods.slice/pod%s\",namespace=%q,pod=%q} %d %d\n",
				m.name, containerName, a.podUID, a.ns, a.podName, perSecond(m.rate(a), a.elapsed(at)), ms)
		}
	}
	return b.Bytes()
}

// UsageTruth is what the pods of one CronJob used in a range.
type UsageTruth struct {
	Namespace, CronJob string
	CPUSeconds         float64 // core-seconds used in the range
	// Unseen bounds the core-seconds that sampling every interval misses:
	// the last interval of each attempt that ran in the range.
	Unseen float64
	// PeakRatio is the largest working set ÷ limit an attempt reached.
	PeakRatio float64
}

// Usage returns, per CronJob (CronJob "" for Jobs without one) matching
// f, what its pods used in [from, to): their core-seconds, and the part
// of them that sampling every interval may miss.
func (t *Truth) Usage(from, to time.Time, f store.Filter, interval time.Duration) []UsageTruth {
	if !t.clusterMatches(f) {
		return nil
	}
	by := map[attr]*UsageTruth{}
	for i := range t.attempts {
		a := &t.attempts[i]
		if !a.matches(f) || !a.start.Before(to) || (!a.end.IsZero() && !a.end.After(from)) {
			continue
		}
		u := by[a.attr]
		if u == nil {
			u = &UsageTruth{Namespace: a.ns, CronJob: a.cronJob}
			by[a.attr] = u
		}
		lo, hi := maxTime(a.start, from), to
		if !a.end.IsZero() && a.end.Before(hi) {
			hi = a.end
		}
		cores := float64(a.nanoCores) / 1e9
		u.CPUSeconds += cores * hi.Sub(lo).Seconds()
		u.Unseen += cores * math.Min(interval.Seconds(), hi.Sub(lo).Seconds())
		u.PeakRatio = math.Max(u.PeakRatio, float64(a.workingSet(hi))/float64(a.limit))
	}
	out := make([]UsageTruth, 0, len(by))
	for _, u := range by {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(x, y UsageTruth) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.CronJob, y.CronJob))
	})
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
