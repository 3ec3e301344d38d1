package scenario

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMinuteBoundaries(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, "2026-11-27T10:"+s+"Z")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		from, to string
		want     int
	}{
		{"00:10", "00:50", 0},
		{"00:10", "01:00", 1},
		{"00:10", "01:30", 1},
		{"00:00", "00:30", 0}, // a CronJob created on the boundary is not run for it
		{"00:00.001", "05:20", 5},
		{"59:59.999", "00:00", 0}, // to before from's next minute
	}
	for _, tt := range tests {
		if got := MinuteBoundaries(at(tt.from), at(tt.to)); got != tt.want {
			t.Errorf("MinuteBoundaries(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestUntilMidMinute(t *testing.T) {
	base := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ sec, want int }{{0, 20}, {19, 1}, {20, 0}, {33, 0}, {40, 0}, {41, 39}, {59, 21}} {
		if got := untilMidMinute(base.Add(time.Duration(tt.sec) * time.Second)); got != time.Duration(tt.want)*time.Second {
			t.Errorf("untilMidMinute(:%02d) = %s, want %ds", tt.sec, got, tt.want)
		}
	}
}

func TestTruth(t *testing.T) {
	var tr Truth
	tr.add(Key{"a", "etl"}, CrashLoop, 2)
	tr.add(Key{"b", "train"}, Success, 2)
	tr.add(Key{"a", ""}, Error, 1)
	tr.add(Key{"b", "oom"}, OOM, 3)
	tr.add(Key{"a", "late"}, Unschedulable, 1)
	want := Tally{Runs: 9, RunsSucceeded: 2, RunsFailed: 6, PodsSucceeded: 2, PodsFailed: 5, PodsOOM: 3,
		Restarts: 6, PodsCrashLoop: 2, PodsPendingEnd: 1}
	if diff := cmp.Diff(want, tr.Tally()); diff != "" {
		t.Errorf("Tally() (-want +got):\n%s", diff)
	}
	if got := tr.Tally("a").Runs; got != 4 {
		t.Errorf("Tally(a).Runs = %d, want 4", got)
	}
	wantTop := []KeyCount{{Key{"b", "oom"}, 3}, {Key{"a", "etl"}, 2}, {Key{"b", "train"}, 2}, {Key{"a", "late"}, 1}}
	if diff := cmp.Diff(wantTop, tr.CronJobRuns()); diff != "" {
		t.Errorf("CronJobRuns() (-want +got):\n%s", diff)
	}
}

// Every outcome the scenario deals has an expectation that names one run.
func TestExpectCoversOutcomes(t *testing.T) {
	for _, o := range append(Outcomes(), cronJobOutcomes...) {
		e := Expect(o)
		if e.Runs != 1 || e.RunsSucceeded+e.RunsFailed+e.PodsPendingEnd != 1 {
			t.Errorf("Expect(%s) = %s: a run either finishes once or stays pending", o, e)
		}
	}
}

func TestUsageAt(t *testing.T) {
	u := Usage{Idle: 4 * time.Second, Work: 10 * time.Second, NanoCores: 750_000_000, Memory: 100, Storage: 7,
		Rx: 1000, Tx: 200, RxErrors: 3, TxErrors: 1, Read: 80, Write: 20}
	gauges := Stats{Memory: 100, Storage: 7}
	tests := []struct {
		at   time.Duration
		want Stats
	}{
		{0, gauges},
		{4*time.Second - time.Millisecond, gauges}, // still loading: counters flat at zero
		{4 * time.Second, Stats{NanoCores: 750_000_000, Memory: 100, Storage: 7}},
		{9 * time.Second, Stats{NanoCores: 750_000_000, CPUNanos: 3_750_000_000, Memory: 100, Storage: 7,
			Rx: 500, Tx: 100, RxErrors: 1, Read: 40, Write: 10}},
		{14 * time.Second, Stats{CPUNanos: 7_500_000_000, Memory: 100, Storage: 7, Rx: 1000, Tx: 200, RxErrors: 3, TxErrors: 1, Read: 80, Write: 20}},
		{time.Hour, Stats{CPUNanos: 7_500_000_000, Memory: 100, Storage: 7, Rx: 1000, Tx: 200, RxErrors: 3, TxErrors: 1, Read: 80, Write: 20}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, u.At(tt.at)); diff != "" {
			t.Errorf("At(%s) (-want +got):\n%s", tt.at, diff)
		}
	}
	if diff := cmp.Diff(u.At(time.Hour), u.Totals()); diff != "" {
		t.Errorf("Totals differ from the stats at the end (-end +totals):\n%s", diff)
	}
}
