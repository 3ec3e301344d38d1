package query

import (
	"cmp"
	"slices"

	"github.com/batchlens/batchlens/internal/dashboard"
	"github.com/batchlens/batchlens/internal/store"
)

// cronJobsShown is how many CronJobs a by-CronJob widget shows.
const cronJobsShown = 10

// usageRate is a by-CronJob widget's figure of u over secs seconds.
func usageRate(q dashboard.Quantity, u store.Usage, secs float64) Number {
	switch q {
	case dashboard.QuantityNetworkErrors:
		return Num(float64(u.NetErrors))
	case dashboard.QuantityCPU:
		return Num(float64(u.CPUNanos) / 1e9 / secs)
	case dashboard.QuantityMemory:
		return Num(u.MemorySeconds / secs)
	case dashboard.QuantityDisk:
		return Num(float64(u.DiskRead+u.DiskWrite) / secs)
	case dashboard.QuantityNetwork:
		return Num(float64(u.NetRx+u.NetTx) / secs)
	}
	return Number{}
}

func sumUsage(sums []store.Usage) store.Usage {
	var t store.Usage
	for _, u := range sums {
		t.Add(u)
	}
	return t
}

func (d *data) seconds(i int) float64 { return d.b.End(i).Sub(d.b.Start(i)).Seconds() }

func (d *data) rangeSeconds() float64 { return d.b.To.Sub(d.b.From).Seconds() }

// cronJobName names a CronJob's series; pods of Jobs without a CronJob are
// one series per namespace.
func cronJobName(namespace, cronJob string) string {
	if cronJob == "" {
		cronJob = "(no cronjob)"
	}
	return namespace + "/" + cronJob
}

// topCronJobs are the cronJobsShown CronJobs with the highest figure of q
// over the range, highest first (ties by cluster, namespace, name).
func (d *data) topCronJobs(q dashboard.Quantity) []store.CronJobTotal {
	rows := slices.Clone(d.jobUse)
	secs := d.rangeSeconds()
	slices.SortFunc(rows, func(a, b store.CronJobTotal) int {
		return cmp.Or(cmp.Compare(usageRate(q, b.Usage, secs).V, usageRate(q, a.Usage, secs).V),
			cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.CronJob, b.CronJob))
	})
	return rows[:min(len(rows), cronJobsShown)]
}

// cronJobSeries is one series of q per CronJob shown.
func (d *data) cronJobSeries(q dashboard.Quantity) ([]Series, []SeriesInfo, map[string]Number) {
	top := d.topCronJobs(q)
	names := map[string]int{}
	for _, t := range top {
		names[cronJobName(t.Namespace, t.CronJob)]++
	}
	series := make([]Series, 0, len(top))
	info := make([]SeriesInfo, 0, len(top))
	values := make(map[string]Number, len(top))
	for _, t := range top {
		name := cronJobName(t.Namespace, t.CronJob)
		if names[name] > 1 { // the same CronJob in several clusters
			name = t.Cluster + "/" + name
		}
		sums := d.jobSums[t.CronJobKey]
		series = append(series, d.series(name, func(i int) Number { return usageRate(q, sums[i], d.seconds(i)) }))
		values[name] = usageRate(q, t.Usage, d.rangeSeconds())
		info = append(info, SeriesInfo{Name: name, Cluster: t.Cluster, Namespace: t.Namespace, CronJob: t.CronJob})
	}
	return series, info, values
}

// podFigure is a by-pod widget's figure of u, from n samples; null
// without samples (or, for rates, without a window).
func podFigure(q dashboard.Quantity, u store.Usage, peakStorage, n int64) Number {
	secs := u.Window.Seconds()
	switch {
	case n == 0:
		return Number{}
	case q == dashboard.QuantityMemory:
		return Num(float64(u.PeakMemory))
	case q == dashboard.QuantityStorage:
		return Num(float64(peakStorage))
	case q == dashboard.QuantityNetworkErrors:
		return Num(float64(u.NetErrors))
	case secs == 0:
		return Number{}
	case q == dashboard.QuantityCPU:
		return Num(float64(u.CPUNanos) / 1e9 / secs)
	case q == dashboard.QuantityNetwork:
		return Num(float64(u.NetRx+u.NetTx) / secs)
	}
	return Number{}
}

// bounds are a pod's request and limit in q's unit, where the widget shows
// them; nil where it does not, a null Number where the pod sets none.
func bounds(q dashboard.Quantity, p store.PodUsage) (request, limit *Number) {
	n := func(v int64, scale float64) *Number {
		if v == 0 {
			return &Number{}
		}
		return ptr(Num(float64(v) * scale))
	}
	switch q {
	case dashboard.QuantityCPU:
		return n(p.CPURequest, 1e-3), n(p.CPULimit, 1e-3)
	case dashboard.QuantityMemory:
		return n(p.MemoryRequest, 1), n(p.MemoryLimit, 1)
	case dashboard.QuantityStorage:
		return nil, n(p.StorageLimit, 1)
	}
	return nil, nil
}

// podSeries is one series of q per pod shown.
func (d *data) podSeries(q dashboard.Quantity) ([]Series, []SeriesInfo, map[string]Number) {
	series := make([]Series, 0, len(d.podUse))
	info := make([]SeriesInfo, 0, len(d.podUse))
	values := make(map[string]Number, len(d.podUse))
	for _, p := range d.podUse {
		series = append(series, d.series(p.Name, func(i int) Number {
			return podFigure(q, p.Sums[i], p.PeakStorage[i], p.Samples[i])
		}))
		in := SeriesInfo{Name: p.Name, Cluster: p.Cluster, Namespace: p.Namespace, CronJob: p.CronJob, Pod: p.Name}
		in.Request, in.Limit = bounds(q, p)
		info = append(info, in)
		var n, peakStorage int64
		for i := range p.Samples {
			n += p.Samples[i]
			peakStorage = max(peakStorage, p.PeakStorage[i])
		}
		values[p.Name] = podFigure(q, sumUsage(p.Sums), peakStorage, n)
	}
	return series, info, values
}

// resourceColumns are the columns of cronjob_resources, as docs/widgets.md
// lists them.
var resourceColumns = []Column{
	{"cpu_avg", "CPU avg", dashboard.UnitCores},
	{"cpu_peak", "CPU peak", dashboard.UnitCores},
	{"cpu_core_seconds", "CPU core-seconds", ""},
	{"memory_avg", "Memory avg", dashboard.UnitBytes},
	{"memory_peak", "Memory peak", dashboard.UnitBytes},
	{"memory_peak_pct", "Memory peak of limit", dashboard.UnitPercent},
	{"memory_gb_seconds", "Memory GB-seconds", ""},
	{"disk_read", "Disk read", dashboard.UnitBytes},
	{"disk_write", "Disk written", dashboard.UnitBytes},
	{"net_rx", "Network received", dashboard.UnitBytes},
	{"net_tx", "Network sent", dashboard.UnitBytes},
	{"net_errors", "Network errors", ""},
	{"runs_at_risk", "Runs over 90% of memory limit", ""},
}

// resourceTable is cronjob_resources: every CronJob's usage over the
// range, most CPU first.
func (d *data) resourceTable() *Table {
	secs := d.rangeSeconds()
	rows := make([]TableRow, 0, len(d.jobUse))
	for _, c := range d.jobUse {
		t := c.Usage
		pct := Number{}
		if t.PeakRatio > 0 {
			pct = Num(100 * t.PeakRatio)
		}
		rows = append(rows, TableRow{
			Cluster: c.Cluster, Namespace: c.Namespace, CronJob: c.CronJob,
			OOMRisk: t.PeakRatio > store.OOMRiskRatio,
			Cells: map[string]Number{
				"cpu_avg":           Num(float64(t.CPUNanos) / 1e9 / secs),
				"cpu_peak":          Num(float64(t.PeakNanoCores) / 1e9),
				"cpu_core_seconds":  Num(float64(t.CPUNanos) / 1e9),
				"memory_avg":        Num(t.MemorySeconds / secs),
				"memory_peak":       Num(float64(t.PeakMemory)),
				"memory_peak_pct":   pct,
				"memory_gb_seconds": Num(t.MemorySeconds / 1e9),
				"disk_read":         Num(float64(t.DiskRead)),
				"disk_write":        Num(float64(t.DiskWrite)),
				"net_rx":            Num(float64(t.NetRx)),
				"net_tx":            Num(float64(t.NetTx)),
				"net_errors":        Num(float64(t.NetErrors)),
				"runs_at_risk":      Num(float64(t.RunsAtRisk)),
			},
		})
	}
	slices.SortFunc(rows, func(a, b TableRow) int {
		return cmp.Or(cmp.Compare(b.Cells["cpu_core_seconds"].V, a.Cells["cpu_core_seconds"].V),
			cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.CronJob, b.CronJob))
	})
	return &Table{Columns: slices.Clone(resourceColumns), Rows: rows}
}
