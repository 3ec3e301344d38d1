// Package kubelet serves the kubelet stats that kwok's fake nodes do not: for each node, an
// HTTPS server on an address of its own answers GET /stats/summary (the Summary API, built with
// the kubelet's own types) and GET /metrics/cadvisor (the disk I/O counters, in the Prometheus
// text format) for the pods kwok runs on that node, from the scenario's usage profile
// (scenario.UsageOf). The node's status is patched to point at it (its InternalIP and kubelet
// port), so the API server's node proxy reaches it as it would a real kubelet.
//
// The API server refuses to proxy to loopback addresses, and the machine's only addresses are
// loopback ones; each node therefore gets a TEST-NET-1 address (RFC 5737, 192.0.2.0/24) added
// to the loopback interface: still reachable from this machine only. Adding it needs root
// (CAP_NET_ADMIN). The addresses are removed by Close.
package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	statsv1alpha1 "k8s.io/kubelet/pkg/apis/stats/v1alpha1"

	"github.com/batchlens/batchlens/e2e/scenario"
)

// Kubelets serves the stats of kwok's nodes. Its methods are safe for concurrent use.
type Kubelets struct {
	client  kubernetes.Interface
	log     *slog.Logger
	pods    cache.Indexer
	stop    context.CancelFunc
	mu      sync.Mutex
	next    int // last octet of the next address to try
	addrs   []string
	servers []*httptest.Server
}

const byNode = "node"

// Start watches the cluster's pods (through client) and returns Kubelets whose servers report
// each running container's stats as its pod's profile (scenario.UsageOf) gives them for the
// time since the container started. Close it.
func Start(ctx context.Context, client kubernetes.Interface, log *slog.Logger) (*Kubelets, error) {
	ctx, cancel := context.WithCancel(ctx)
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Core().V1().Pods().Informer()
	if err := inf.AddIndexers(cache.Indexers{byNode: func(obj any) ([]string, error) {
		return []string{obj.(*corev1.Pod).Spec.NodeName}, nil
	}}); err != nil {
		cancel()
		return nil, fmt.Errorf("index pods by node: %w", err)
	}
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		cancel()
		return nil, errors.New("pod cache did not sync")
	}
	return &Kubelets{client: client, log: log, pods: inf.GetIndexer(), stop: cancel,
		next: 100 + rand.IntN(100)}, nil
}

// Serve gives node an address of its own (192.0.2.x on the loopback interface), starts its
// kubelet there and points the node's status at it, then checks that the API server's node
// proxy reaches it.
func (k *Kubelets) Serve(ctx context.Context, node string) error {
	addr, err := k.address()
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return fmt.Errorf("listen on %s for node %s: %w", addr, node, err)
	}
	srv := httptest.NewUnstartedServer(k.handler(node))
	srv.Listener.Close()
	srv.Listener = l
	srv.StartTLS()
	k.mu.Lock()
	k.servers = append(k.servers, srv)
	k.mu.Unlock()
	port := l.Addr().(*net.TCPAddr).Port
	// Its ephemeral storage too, which kwok's nodes do not report: pods that set a limit of it
	// fit nowhere without.
	patch := fmt.Sprintf(`{"status":{"addresses":[{"type":"InternalIP","address":%q}],"daemonEndpoints":{"kubeletEndpoint":{"Port":%d}},`+
		`"capacity":{"ephemeral-storage":"1Ti"},"allocatable":{"ephemeral-storage":"1Ti"}}}`, addr, port)
	if _, err := k.client.CoreV1().Nodes().Patch(ctx, node, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("point node %s at its kubelet: %w", node, err)
	}
	var last error
	for range 50 {
		_, last = k.client.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", node, "proxy", "stats", "summary").Do(ctx).Raw()
		if last == nil {
			k.log.Info("kubelet stats served", "node", node, "address", net.JoinHostPort(addr, strconv.Itoa(port)))
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the API server's node proxy does not reach node %s's kubelet at %s:%d: %w", node, addr, port, last)
}

// address adds the next free TEST-NET-1 address to the loopback interface.
func (k *Kubelets) address() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for range 100 {
		addr := "192.0.2." + strconv.Itoa(k.next)
		k.next = 100 + (k.next-99)%150
		out, err := exec.Command("ip", "addr", "add", addr+"/32", "dev", "lo").CombinedOutput()
		switch {
		case err == nil:
			k.addrs = append(k.addrs, addr)
			return addr, nil
		case strings.Contains(string(out), "File exists"): // another run's: try the next
			continue
		}
		return "", fmt.Errorf("add %s to the loopback interface (`ip addr add %s/32 dev lo`): %w: %s\n"+
			"The e2e serves each kwok node's kubelet stats on an address of its own, which needs root "+
			"(CAP_NET_ADMIN): run it as root (`sudo make e2e`), as CI does", addr, addr, err, bytes.TrimSpace(out))
	}
	return "", errors.New("no free address in 192.0.2.100-249")
}

// Close stops the servers and removes the addresses.
func (k *Kubelets) Close() error {
	k.stop()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range k.servers {
		s.Close()
	}
	var errs []error
	for _, a := range k.addrs {
		if out, err := exec.Command("ip", "addr", "del", a+"/32", "dev", "lo").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("remove %s from the loopback interface: %w: %s", a, err, bytes.TrimSpace(out)))
		}
	}
	k.servers, k.addrs = nil, nil
	return errors.Join(errs...)
}

func (k *Kubelets) handler(node string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats/summary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(k.summary(node, time.Now()))
	})
	mux.HandleFunc("GET /metrics/cadvisor", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write(k.cadvisor(node, time.Now()))
	})
	return mux
}

// container is a running container of a pod on the node, with its stats at an instant.
type container struct {
	pod   *corev1.Pod
	name  string
	start time.Time
	stats scenario.Stats
}

// running returns the containers running on node at at, and their stats.
func (k *Kubelets) running(node string, at time.Time) []container {
	objs, _ := k.pods.ByIndex(byNode, node)
	var out []container
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running == nil {
				continue
			}
			start := cs.State.Running.StartedAt.Time
			out = append(out, container{pod: p, name: cs.Name, start: start, stats: scenario.UsageOf(p).At(max(0, at.Sub(start)))})
		}
	}
	return out
}

// summary is node's Summary API document at at: per pod, its containers and the pod's own
// figures (their sums) and network interface.
func (k *Kubelets) summary(node string, at time.Time) *statsv1alpha1.Summary {
	tm := metav1.NewTime(at)
	u := func(v uint64) *uint64 { return &v }
	s := &statsv1alpha1.Summary{Node: statsv1alpha1.NodeStats{NodeName: node}}
	byPod := map[types.UID]int{}
	for _, c := range k.running(node, at) {
		i, ok := byPod[c.pod.UID]
		if !ok {
			ps := statsv1alpha1.PodStats{PodRef: statsv1alpha1.PodReference{Name: c.pod.Name, Namespace: c.pod.Namespace, UID: string(c.pod.UID)},
				CPU:              &statsv1alpha1.CPUStats{Time: tm, UsageNanoCores: u(0), UsageCoreNanoSeconds: u(0)},
				Memory:           &statsv1alpha1.MemoryStats{Time: tm, WorkingSetBytes: u(0), RSSBytes: u(0), UsageBytes: u(0)},
				Network:          &statsv1alpha1.NetworkStats{Time: tm, InterfaceStats: statsv1alpha1.InterfaceStats{Name: "eth0", RxBytes: u(0), TxBytes: u(0), RxErrors: u(0), TxErrors: u(0)}},
				EphemeralStorage: &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(0)},
			}
			if st := c.pod.Status.StartTime; st != nil {
				ps.StartTime = *st
			}
			s.Pods = append(s.Pods, ps)
			i = len(s.Pods) - 1
			byPod[c.pod.UID] = i
		}
		ps := &s.Pods[i]
		x := c.stats
		ps.Containers = append(ps.Containers, statsv1alpha1.ContainerStats{
			Name: c.name, StartTime: metav1.NewTime(c.start),
			CPU:    &statsv1alpha1.CPUStats{Time: tm, UsageNanoCores: u(x.NanoCores), UsageCoreNanoSeconds: u(x.CPUNanos)},
			Memory: &statsv1alpha1.MemoryStats{Time: tm, WorkingSetBytes: u(x.Memory), RSSBytes: u(x.Memory * 9 / 10), UsageBytes: u(x.Memory + x.Memory/8)},
			Rootfs: &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(x.Storage)},
			Logs:   &statsv1alpha1.FsStats{Time: tm, UsedBytes: u(0)},
		})
		add := func(p *uint64, v uint64) { *p += v }
		add(ps.CPU.UsageNanoCores, x.NanoCores)
		add(ps.CPU.UsageCoreNanoSeconds, x.CPUNanos)
		add(ps.Memory.WorkingSetBytes, x.Memory)
		add(ps.Memory.RSSBytes, x.Memory*9/10)
		add(ps.Memory.UsageBytes, x.Memory+x.Memory/8)
		add(ps.EphemeralStorage.UsedBytes, x.Storage)
		n := &ps.Network.InterfaceStats
		add(n.RxBytes, x.Rx)
		add(n.TxBytes, x.Tx)
		add(n.RxErrors, x.RxErrors)
		add(n.TxErrors, x.TxErrors)
	}
	for i := range s.Pods {
		s.Pods[i].Network.Interfaces = []statsv1alpha1.InterfaceStats{s.Pods[i].Network.InterfaceStats}
	}
	return s
}

// cadvisor is node's cAdvisor disk I/O counters at at, in the Prometheus text format.
func (k *Kubelets) cadvisor(node string, at time.Time) []byte {
	var b bytes.Buffer
	cs := k.running(node, at)
	for _, m := range []struct {
		name, help string
		value      func(scenario.Stats) uint64
	}{
		{"container_fs_reads_bytes_total", "Cumulative count of bytes read", func(s scenario.Stats) uint64 { return s.Read }},
		{"container_fs_writes_bytes_total", "Cumulative count of bytes written", func(s scenario.Stats) uint64 { return s.Write }},
	} {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", m.name, m.help, m.name)
		for _, c := range cs {
			fmt.Fprintf(&b, "%s{container=%q,device=\"/dev/vda\",id=\"/kubepods.slice/pod%s/%s\",namespace=%q,pod=%q} %d %d\n",
				m.name, c.name, c.pod.UID, c.name, c.pod.Namespace, c.pod.Name, m.value(c.stats), at.UnixMilli())
		}
	}
	return b.Bytes()
}
