package metrics

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
)

// listener is a DogStatsD server on loopback that adds up what it receives.
type listener struct {
	conn *net.UDPConn
	mu   sync.Mutex
	sums map[string]float64 // "name|type|tags" → sum (counts) or last value (gauges)
	n    int                // datagrams
	done chan struct{}
}

func listen(t *testing.T) *listener {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	l := &listener{conn: conn, sums: map[string]float64{}, done: make(chan struct{})}
	go l.serve(t)
	t.Cleanup(func() { conn.Close(); <-l.done })
	return l
}

func (l *listener) serve(t *testing.T) {
	defer close(l.done)
	buf := make([]byte, 65536)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			return
		}
		l.mu.Lock()
		l.n++
		for _, line := range strings.Split(strings.TrimSpace(string(buf[:n])), "\n") {
			// name:value|type|#tag,tag
			name, rest, _ := strings.Cut(line, ":")
			parts := strings.Split(rest, "|")
			v, err := strconv.ParseFloat(parts[0], 64)
			if err != nil || len(parts) < 2 {
				t.Errorf("bad dogstatsd line %q", line)
				continue
			}
			var tags string
			for _, p := range parts[2:] {
				if t, ok := strings.CutPrefix(p, "#"); ok {
					tags = t
				}
			}
			k := name + "|" + parts[1] + "|" + tags
			if parts[1] == "c" {
				l.sums[k] += v
			} else {
				l.sums[k] = v
			}
		}
		l.mu.Unlock()
	}
}

// TestStatsDSendsTheLedgersCounts sends the increments of a growing ledger
// over UDP and checks that what a DogStatsD server received adds up to the
// ledger's counts, every counter and label set, exactly; and that a second
// sender on the same store (a restarted batchlens) sends nothing again.
func TestStatsDSendsTheLedgersCounts(t *testing.T) {
	ctx := context.Background()
	l := listen(t)
	client, err := statsd.New(l.conn.LocalAddr().String(), statsd.WithoutTelemetry())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	st := openStore(t, t.TempDir()+"/s.db")
	defer st.Close()
	var now time.Time
	s := NewStatsD(client, st, func() time.Time { return now }, quiet(), time.Hour)
	now = simStart
	if err := s.Send(ctx); err != nil { // the baseline: an empty ledger
		t.Fatal(err)
	}
	sends := 0
	fleet(t, st, 5, func(end time.Time) {
		now = end
		if err := s.Send(ctx); err != nil {
			t.Fatal(err)
		}
		sends++
	}, simStart.Add(2*time.Hour), simStart.Add(5*time.Hour), simStart.Add(9*time.Hour))

	snap, err := Read(ctx, st, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, f := range Families() {
		typ := "g"
		if f.Kind == Counter {
			typ = "c"
		}
		for _, p := range snap.Points[f.Name] {
			want[DatadogName(f)+"|"+typ+"|"+strings.Join(Tags(f, p), ",")] = p.Value
		}
	}
	wait := func(ok func() bool) {
		deadline := time.Now().Add(10 * time.Second)
		for !ok() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	equal := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		for k, v := range want {
			if l.sums[k] != v {
				return false
			}
		}
		return true
	}
	wait(equal)
	l.mu.Lock()
	for k, v := range want {
		if l.sums[k] != v {
			t.Errorf("%s: received %v, ledger %v", k, l.sums[k], v)
		}
	}
	for k, v := range l.sums {
		if _, ok := want[k]; !ok && v != 0 { // a gauge that fell to 0 is sent as 0 once
			t.Errorf("%s: received %v, not in the ledger", k, v)
		}
	}
	if len(want) < 50 || want["batchlens.job_runs.count|c|kube_cluster_name:sim,kube_namespace:recsys,kube_cronjob:user-features,outcome:created"] == 0 {
		t.Errorf("only %d series; the fleet should give many", len(want))
	}
	received := l.n
	l.mu.Unlock()

	// A restarted batchlens: its first send is the baseline, its second
	// (nothing new in the ledger) sends only gauges.
	again := NewStatsD(client, st, func() time.Time { return now }, quiet(), time.Hour)
	for range 2 {
		if err := again.Send(ctx); err != nil {
			t.Fatal(err)
		}
	}
	wait(func() bool { l.mu.Lock(); defer l.mu.Unlock(); return l.n > received })
	if !equal() {
		t.Error("a restarted sender sent counts again")
	}
}
