package usage

import (
	"fmt"
	"io"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	promodel "github.com/prometheus/common/model"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/internal/model"
)

// The cAdvisor counters of disk I/O, per container and device.
const (
	metricReads  = "container_fs_reads_bytes_total"
	metricWrites = "container_fs_writes_bytes_total"
)

// ContainerRef names a container as cAdvisor's labels do.
type ContainerRef struct{ Namespace, Pod, Container string }

// DiskIO is a container's cumulative disk I/O, summed over its devices.
type DiskIO struct{ Read, Write uint64 }

// ParseCAdvisor reads the disk I/O counters of every container from a
// cAdvisor metrics document (Prometheus text format). Series without a
// container label, or of the pod's sandbox ("POD"), are left out.
func ParseCAdvisor(r io.Reader) (map[ContainerRef]DiskIO, error) {
	p := expfmt.NewTextParser(promodel.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse cadvisor metrics: %w", err)
	}
	out := map[ContainerRef]DiskIO{}
	for name, add := range map[string]func(*DiskIO, uint64){
		metricReads:  func(d *DiskIO, v uint64) { d.Read += v },
		metricWrites: func(d *DiskIO, v uint64) { d.Write += v },
	} {
		for _, m := range families[name].GetMetric() {
			ref := containerRef(m)
			if ref.Container == "" || ref.Container == "POD" {
				continue
			}
			v := m.GetCounter().GetValue()
			if m.GetCounter() == nil {
				v = m.GetUntyped().GetValue()
			}
			d := out[ref]
			add(&d, uint64(max(v, 0)))
			out[ref] = d
		}
	}
	return out, nil
}

func containerRef(m *dto.Metric) ContainerRef {
	var ref ContainerRef
	for _, l := range m.GetLabel() {
		switch l.GetName() {
		case "namespace":
			ref.Namespace = l.GetValue()
		case "pod":
			ref.Pod = l.GetValue()
		case "container":
			ref.Container = l.GetValue()
		}
	}
	return ref
}

// Look is what one poll of a node returned.
type Look struct {
	Node    string
	At      time.Time // when it was taken; stats without their own time get it
	Summary *statsv1alpha1.Summary
	Disk    map[ContainerRef]DiskIO // nil when cAdvisor did not answer
}

// Sampler turns looks at nodes into samples. It remembers the counters of
// the previous look at each pod, per node. It is not safe for concurrent
// use; give each node's looks to it in order.
type Sampler struct {
	cluster string
	// fresh is how recently a container must have started for its first
	// look to count its counters from zero; an older one's first look
	// only sets the baseline (its usage before batchlens saw it is not
	// attributed to one sample).
	fresh time.Duration
	nodes map[string]map[string]*podState // node → pod UID → state
}

type podState struct {
	at         time.Time
	containers map[string]containerState
	net        netCounters
}

type containerState struct {
	start time.Time
	cpu   uint64
	disk  DiskIO
}

type netCounters struct{ rx, tx, rxErr, txErr uint64 }

// NewSampler returns a Sampler for cluster; interval is the polling
// interval (see Sampler.fresh: two intervals).
func NewSampler(cluster string, interval time.Duration) *Sampler {
	return &Sampler{cluster: cluster, fresh: 2 * interval, nodes: map[string]map[string]*podState{}}
}

// Sample turns a look into samples of the tracked pods it shows (pods by
// UID); the rest of the look is ignored. A pod whose stats are no newer
// than at the previous look gives no sample. Pods the look does not show
// are forgotten.
func (s *Sampler) Sample(l Look, pods map[string]Pod) []model.Sample {
	prev := s.nodes[l.Node]
	next := map[string]*podState{}
	var out []model.Sample
	if l.Summary != nil {
		for i := range l.Summary.Pods {
			ps := &l.Summary.Pods[i]
			pod, ok := pods[ps.PodRef.UID]
			if !ok {
				continue
			}
			x, st, ok := s.pod(l, ps, pod, prev[ps.PodRef.UID])
			next[ps.PodRef.UID] = st
			if ok {
				out = append(out, x)
			}
		}
	}
	s.nodes[l.Node] = next
	return out
}

// pod makes the sample of one pod, and the state the next look starts from.
func (s *Sampler) pod(l Look, ps *statsv1alpha1.PodStats, pod Pod, prev *podState) (model.Sample, *podState, bool) {
	at := statTime(ps, l.At)
	if prev != nil && !at.After(prev.at) {
		return model.Sample{}, prev, false // nothing new since the last look
	}
	x := model.Sample{
		Cluster: s.cluster, Namespace: ps.PodRef.Namespace, PodUID: ps.PodRef.UID, Pod: ps.PodRef.Name,
		RunUID: pod.RunUID, CronJob: pod.CronJob, At: at,
	}
	st := &podState{at: at, containers: map[string]containerState{}}
	// The window: since the previous look, or, at the first look, since
	// the earliest container that started within fresh; a first look at
	// older containers only sets the baseline.
	counted := true
	if prev != nil {
		x.Window = at.Sub(prev.at)
	} else {
		var first time.Time
		for _, cs := range ps.Containers {
			if st := cs.StartTime.Time; !st.IsZero() && at.Sub(st) <= s.fresh && (first.IsZero() || st.Before(first)) {
				first = st
			}
		}
		counted = !first.IsZero()
		if counted {
			x.Window = max(0, at.Sub(first))
		}
	}

	var nanoCores, workingSet, rss, storage uint64
	for i := range ps.Containers {
		cs := &ps.Containers[i]
		c := containerState{start: cs.StartTime.Time}
		var old containerState
		seen := false
		if prev != nil {
			old, seen = prev.containers[cs.Name]
		}
		// A container seen before with another start time restarted: its
		// counters began again from zero.
		restarted := seen && !old.start.Equal(c.start)
		fromZero := restarted || !seen && counted && (prev != nil || at.Sub(c.start) <= s.fresh)
		if cpu := cs.CPU; cpu != nil {
			if v := cpu.UsageCoreNanoSeconds; v != nil {
				c.cpu = *v
				x.CPUNanos += grew(old.cpu, *v, seen && !restarted, fromZero)
			}
			if v := cpu.UsageNanoCores; v != nil {
				nanoCores += *v
			}
		}
		if m := cs.Memory; m != nil {
			ws := deref(m.WorkingSetBytes)
			workingSet += ws
			rss += deref(m.RSSBytes)
			if limit := pod.MemoryLimits[cs.Name]; limit > 0 {
				x.MemoryRatio = max(x.MemoryRatio, float64(ws)/float64(limit))
			}
		}
		if fs := cs.Rootfs; fs != nil {
			storage += deref(fs.UsedBytes)
		}
		if fs := cs.Logs; fs != nil {
			storage += deref(fs.UsedBytes)
		}
		if d, ok := l.Disk[ContainerRef{ps.PodRef.Namespace, ps.PodRef.Name, cs.Name}]; ok {
			c.disk = d
			x.DiskRead += grew(old.disk.Read, d.Read, seen && !restarted, fromZero)
			x.DiskWrite += grew(old.disk.Write, d.Write, seen && !restarted, fromZero)
		} else if l.Disk == nil {
			c.disk = old.disk // cAdvisor did not answer: keep the baseline
		}
		st.containers[cs.Name] = c
	}
	// Pod-level figures, where the kubelet gives them, are the pod's own
	// cgroup and cover more than the sum of its containers.
	if cpu := ps.CPU; cpu != nil && cpu.UsageNanoCores != nil {
		nanoCores = *cpu.UsageNanoCores
	}
	if m := ps.Memory; m != nil && m.WorkingSetBytes != nil {
		workingSet, rss = *m.WorkingSetBytes, deref(m.RSSBytes)
	}
	if e := ps.EphemeralStorage; e != nil && e.UsedBytes != nil {
		storage = *e.UsedBytes
	}
	x.CPUNanoCores, x.MemoryBytes, x.RSSBytes, x.StorageBytes = int64(nanoCores), int64(workingSet), int64(rss), int64(storage)

	if n, ok := network(ps.Network); ok {
		st.net = n
		var old netCounters
		if prev != nil {
			old = prev.net
		}
		x.NetRx = grew(old.rx, n.rx, prev != nil, counted)
		x.NetTx = grew(old.tx, n.tx, prev != nil, counted)
		x.NetRxErrors = grew(old.rxErr, n.rxErr, prev != nil, counted)
		x.NetTxErrors = grew(old.txErr, n.txErr, prev != nil, counted)
	} else if prev != nil {
		st.net = prev.net
	}
	return x, st, true
}

// grew is how much a cumulative counter grew to cur: since prev when
// continuing (it was seen before and its container did not restart), and
// from zero when it fell (a reset) or when fromZero; else (a baseline) 0.
func grew(prev, cur uint64, continuing, fromZero bool) int64 {
	switch {
	case continuing && cur >= prev:
		return int64(cur - prev)
	case continuing, fromZero:
		return int64(cur)
	}
	return 0
}

// network sums a pod's interfaces' counters; ok is false when the look has
// none.
func network(n *statsv1alpha1.NetworkStats) (netCounters, bool) {
	if n == nil {
		return netCounters{}, false
	}
	ifaces := n.Interfaces
	if len(ifaces) == 0 {
		ifaces = []statsv1alpha1.InterfaceStats{n.InterfaceStats}
	}
	var c netCounters
	for _, i := range ifaces {
		c.rx += deref(i.RxBytes)
		c.tx += deref(i.TxBytes)
		c.rxErr += deref(i.RxErrors)
		c.txErr += deref(i.TxErrors)
	}
	return c, true
}

// statTime is when the kubelet took the pod's stats: its CPU stats' time,
// else a container's, else the look's.
func statTime(ps *statsv1alpha1.PodStats, look time.Time) time.Time {
	if ps.CPU != nil && !ps.CPU.Time.IsZero() {
		return ps.CPU.Time.UTC()
	}
	for _, c := range ps.Containers {
		if c.CPU != nil && !c.CPU.Time.IsZero() {
			return c.CPU.Time.UTC()
		}
	}
	return look.UTC()
}

func deref(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
