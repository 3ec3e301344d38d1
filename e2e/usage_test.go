//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/batchlens/batchlens/e2e/scenario"
)

// sampleInterval is the instances' --sample-interval.
const sampleInterval = 2 * time.Second

// usageWidgets are the engineering dashboard's resource usage widgets (docs/widgets.md).
var usageWidgets = []string{"cronjob_resources", "cpu_by_cronjob", "memory_by_cronjob", "disk_by_cronjob",
	"network_by_cronjob", "network_errors_by_cronjob", "cpu_by_pod", "memory_by_pod", "ephemeral_storage_by_pod",
	"network_by_pod", "network_errors_by_pod"}

// compareUsage returns how the reference's resource widgets for a usage CronJob, over
// [from, to) (whole minutes holding all its runs), differ from what its pods' kubelets
// reported (scenario.Usage).
//
// The counters (CPU core-seconds, network bytes and errors, disk bytes) and the peaks (CPU
// rate, working set, its share of the limit, ephemeral storage) must be exact: the profile
// holds the counters flat for the first 4 s (two intervals) and after the work, so the
// sampler sees them from zero and at their totals. What the working set (and the by-pod
// rates) integrate over is the pod's sampled time: from its container's start, as the
// kubelet reports it, to its last sample. The container runs scenario.WorkRun after kwok
// saw it start; its reported start is truncated to the second (up to 1 s earlier) and kwok
// ends it up to a moment late, while the last sample falls at most one interval before the
// end. So a pod's sampled time is within [WorkRun - interval - 1 s, WorkRun + 2 s], where the
// 1 s of kwok's reaction on either side is margin.
func compareUsage(ctx context.Context, b *instance, c scenario.UsageCronJob, from, to time.Time) (diffs, bounded []string, checked int) {
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)},
		"namespace": {c.Namespace}, "cronjob": {c.Name}}
	w, err := b.dashboard(ctx, "engineering", q, false)
	if err != nil {
		return []string{err.Error()}, nil, 0
	}
	u, runs := c.Usage(), float64(c.Runs)
	tot := u.Totals()
	cpuReq, cpuLim, memReq, memLim, storageLim := scenario.Resources()
	secs := to.Sub(from).Seconds()
	lo, hi := (scenario.WorkRun - sampleInterval - time.Second).Seconds(), (scenario.WorkRun + 2*time.Second).Seconds()
	exact := func(what string, got *float64, want float64) {
		checked++
		if got == nil || math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			diffs = append(diffs, fmt.Sprintf("%s = %v, fed %v", what, deref(got), want))
		}
	}
	within := func(what string, got *float64, min, max float64) {
		checked++
		bounded = append(bounded, fmt.Sprintf("%s = %.4g in [%.4g, %.4g]", what, deref(got), min, max))
		if got == nil || *got < min*(1-1e-9) || *got > max*(1+1e-9) {
			diffs = append(diffs, fmt.Sprintf("%s = %v, fed [%v, %v]", what, deref(got), min, max))
		}
	}

	coreSeconds := runs * float64(tot.CPUNanos) / 1e9
	memory := float64(u.Memory)
	risky := memory > 0.9*memLim
	var row *struct {
		Namespace string              `json:"namespace"`
		CronJob   string              `json:"cronjob"`
		Cells     map[string]*float64 `json:"cells"`
		OOMRisk   bool                `json:"oom_risk"`
	}
	if t := w["cronjob_resources"].Table; t != nil {
		for i := range t.Rows {
			if t.Rows[i].Namespace == c.Namespace && t.Rows[i].CronJob == c.Name {
				row = &t.Rows[i]
			}
		}
	}
	if row == nil {
		return append(diffs, "no cronjob_resources row"), bounded, checked
	}
	cell := func(id string) *float64 { return row.Cells[id] }
	exact("cronjob_resources cpu_core_seconds", cell("cpu_core_seconds"), coreSeconds)
	exact("cronjob_resources cpu_avg", cell("cpu_avg"), coreSeconds/secs)
	exact("cronjob_resources cpu_peak", cell("cpu_peak"), float64(u.NanoCores)/1e9)
	exact("cronjob_resources memory_peak", cell("memory_peak"), memory)
	exact("cronjob_resources memory_peak_pct", cell("memory_peak_pct"), 100*memory/memLim)
	within("cronjob_resources memory_gb_seconds", cell("memory_gb_seconds"), runs*memory*lo/1e9, runs*memory*hi/1e9)
	within("cronjob_resources memory_avg", cell("memory_avg"), runs*memory*lo/secs, runs*memory*hi/secs)
	exact("cronjob_resources disk_read", cell("disk_read"), runs*float64(tot.Read))
	exact("cronjob_resources disk_write", cell("disk_write"), runs*float64(tot.Write))
	exact("cronjob_resources net_rx", cell("net_rx"), runs*float64(tot.Rx))
	exact("cronjob_resources net_tx", cell("net_tx"), runs*float64(tot.Tx))
	exact("cronjob_resources net_errors", cell("net_errors"), runs*float64(tot.RxErrors+tot.TxErrors))
	atRisk := 0.0
	if risky {
		atRisk = runs
	}
	exact("cronjob_resources runs_at_risk", cell("runs_at_risk"), atRisk)
	if row.OOMRisk != risky {
		diffs = append(diffs, fmt.Sprintf("cronjob_resources oom_risk = %v, fed a working set at %.1f%% of the limit", row.OOMRisk, 100*memory/memLim))
	}

	// By CronJob: the figure over the range, and the buckets' figures adding up to it.
	name := c.Namespace + "/" + c.Name
	byCronJob := []struct {
		id         string
		want       float64 // over the range; 0 when within bounds instead
		lo, hi     float64
		perSecond  bool // the buckets' figures are per second of the bucket
		wantWithin bool
	}{
		{id: "cpu_by_cronjob", want: coreSeconds / secs, perSecond: true},
		{id: "memory_by_cronjob", lo: runs * memory * lo / secs, hi: runs * memory * hi / secs, perSecond: true, wantWithin: true},
		{id: "disk_by_cronjob", want: runs * float64(tot.Read+tot.Write) / secs, perSecond: true},
		{id: "network_by_cronjob", want: runs * float64(tot.Rx+tot.Tx) / secs, perSecond: true},
		{id: "network_errors_by_cronjob", want: runs * float64(tot.RxErrors+tot.TxErrors)},
	}
	for _, x := range byCronJob {
		wd, ok := w[x.id]
		if !ok || !wd.Available {
			diffs = append(diffs, fmt.Sprintf("%s missing or unavailable (%s)", x.id, wd.Reason))
			continue
		}
		got := wd.Values[name]
		if x.wantWithin {
			within(x.id, got, x.lo, x.hi)
		} else {
			exact(x.id, got, x.want)
		}
		// The buckets are whole minutes (the step of a range this short).
		sum, found := 0.0, false
		for _, s := range wd.Series {
			if s.Name != name {
				continue
			}
			found = true
			for _, p := range s.Points {
				v := deref(p[1])
				if x.perSecond {
					v *= 60
				}
				sum += v
			}
		}
		if got != nil && found {
			over := *got
			if x.perSecond {
				over *= secs
			}
			exact(x.id+" buckets' sum", &sum, over)
		} else if !found {
			diffs = append(diffs, x.id+": no series "+name)
		}
	}

	// By pod: one series per run's pod, with the pod's request and limit.
	perPod := float64(tot.CPUNanos) / 1e9
	byPod := []struct {
		id             string
		want, lo, hi   float64
		wantWithin     bool
		request, limit *float64
	}{
		{id: "cpu_by_pod", lo: perPod / hi, hi: perPod / lo, wantWithin: true, request: &cpuReq, limit: &cpuLim},
		{id: "memory_by_pod", want: memory, request: &memReq, limit: &memLim},
		{id: "ephemeral_storage_by_pod", want: float64(u.Storage), limit: &storageLim},
		{id: "network_by_pod", lo: float64(tot.Rx+tot.Tx) / hi, hi: float64(tot.Rx+tot.Tx) / lo, wantWithin: true},
		{id: "network_errors_by_pod", want: float64(tot.RxErrors + tot.TxErrors)},
	}
	for _, x := range byPod {
		wd, ok := w[x.id]
		if !ok || !wd.Available {
			diffs = append(diffs, fmt.Sprintf("%s missing or unavailable (%s)", x.id, wd.Reason))
			continue
		}
		if len(wd.SeriesInfo) != c.Runs || len(wd.Values) != c.Runs {
			diffs = append(diffs, fmt.Sprintf("%s shows %d pods (%d values), fed %d", x.id, len(wd.SeriesInfo), len(wd.Values), c.Runs))
		}
		for _, in := range wd.SeriesInfo {
			what := x.id + " " + in.Name
			if x.wantWithin {
				within(what, wd.Values[in.Name], x.lo, x.hi)
			} else {
				exact(what, wd.Values[in.Name], x.want)
			}
			if x.request != nil {
				exact(what+" request", in.Request, *x.request)
			}
			if x.limit != nil {
				exact(what+" limit", in.Limit, *x.limit)
			}
		}
	}
	return diffs, bounded, checked
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
