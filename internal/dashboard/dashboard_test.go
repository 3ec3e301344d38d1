package dashboard

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func ids(ws []Widget) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

func TestCatalogue(t *testing.T) {
	type section struct {
		id  string
		ids []string
	}
	want := []struct {
		id, title string
		sections  []section
	}{
		{"leadership", "Leadership", []section{
			{"main", []string{"jobs", "success_rate", "failure_rate", "pods_failed", "pods_oom",
				"container_restarts", "pods_crashloop", "pods_pending"}},
		}},
		{"engineering", "Engineering", []section{
			{"overview", []string{"jobs", "jobs_succeeded", "jobs_failed", "pods_oom",
				"container_restarts", "pods_crashloop", "pods_bad_phase", "top_cronjobs", "events",
				"cronjob_resources", "cpu_by_cronjob", "memory_by_cronjob", "disk_by_cronjob",
				"network_by_cronjob", "network_errors_by_cronjob"}},
			{"detail", []string{"pods_by_phase", "containers_by_state", "waiting_reasons",
				"terminated_reasons", "restarts_by_container", "cpu_by_pod", "memory_by_pod",
				"ephemeral_storage_by_pod", "network_by_pod", "network_errors_by_pod", "pod_states"}},
		}},
	}
	all := All()
	if len(all) != len(want) {
		t.Fatalf("%d dashboards, want %d", len(all), len(want))
	}
	for i, w := range want {
		d := all[i]
		if d.ID != w.id || d.Title != w.title {
			t.Errorf("dashboard %d = %q %q, want %q %q", i, d.ID, d.Title, w.id, w.title)
		}
		if len(d.Sections) != len(w.sections) {
			t.Fatalf("%s: %d sections, want %d", d.ID, len(d.Sections), len(w.sections))
		}
		for j, ws := range w.sections {
			s := d.Sections[j]
			if s.ID != ws.id || s.Title == "" {
				t.Errorf("%s section %d = %q %q, want id %q and a title", d.ID, j, s.ID, s.Title, ws.id)
			}
			if got := ids(s.Widgets); !slices.Equal(got, ws.ids) {
				t.Errorf("%s/%s widgets = %v, want %v", d.ID, s.ID, got, ws.ids)
			}
		}
		seen := map[string]bool{}
		for _, wd := range d.Widgets() {
			if seen[wd.ID] {
				t.Errorf("%s: widget %s twice", d.ID, wd.ID)
			}
			seen[wd.ID] = true
			if err := wd.Validate(); err != nil {
				t.Error(err)
			}
			if wd.Title == "" || wd.Description == "" || strings.ContainsAny(wd.Description, "\n\r") {
				t.Errorf("%s: widget %s needs a title and a one-line description", d.ID, wd.ID)
			}
		}
	}
}

func TestTitlesFollowSeed(t *testing.T) {
	d, _ := Get("leadership")
	want := []string{"Number of Jobs", "Success Rate", "Failure Rate", "Number of Pods Failed",
		"Number of Pods Failed due to OOM", "Number of Container Restarts",
		"Number of Pods Failed due to Crash Loop Back-Off Errors", "Number of Pending Pods"}
	var got []string
	for _, w := range d.Widgets() {
		got = append(got, w.Title)
	}
	if !slices.Equal(got, want) {
		t.Errorf("leadership titles = %q, want %q", got, want)
	}
	e, _ := Get("engineering")
	want = []string{"Number of Jobs", "Successful Jobs", "Failed Jobs",
		"Number of Pods Failed due to OOM", "Number of Container Restarts",
		"Number of Pods Failed due to Crash Loop Back-Off Errors",
		"Pods in Bad Phase (Pending, Failed)", "Top Cron Jobs by Job Count", "Events",
		"CronJob Resource Consumption"}
	got = nil
	for _, w := range e.Sections[0].Widgets[:len(want)] {
		got = append(got, w.Title)
	}
	if !slices.Equal(got, want) {
		t.Errorf("engineering titles = %q, want %q", got, want)
	}
}

// TestAvailability pins which widgets have numbers today. The detail
// widgets must stay unavailable until docs/widgets.md defines them.
func TestAvailability(t *testing.T) {
	available := []string{"jobs", "success_rate", "failure_rate", "pods_failed", "pods_oom",
		"container_restarts", "pods_crashloop", "pods_pending", "jobs_succeeded", "jobs_failed",
		"pods_bad_phase", "top_cronjobs", "events", "waiting_reasons", "terminated_reasons", "restarts_by_container",
		"cronjob_resources", "cpu_by_cronjob", "memory_by_cronjob", "disk_by_cronjob", "network_by_cronjob",
		"network_errors_by_cronjob", "cpu_by_pod", "memory_by_pod", "ephemeral_storage_by_pod", "network_by_pod",
		"network_errors_by_pod"}
	for _, d := range All() {
		for _, w := range d.Widgets() {
			if want := slices.Contains(available, w.ID); w.Available != want {
				t.Errorf("%s/%s: available = %v, want %v", d.ID, w.ID, w.Available, want)
			}
		}
	}
}

// TestDescriptionsMatchDocs checks that each computed widget's one-line
// description says what docs/widgets.md says, so the two cannot drift.
func TestDescriptionsMatchDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/widgets.md")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string {
		s = strings.NewReplacer("`", "", "**", "").Replace(s)
		return strings.ToLower(strings.TrimSuffix(s, "."))
	}
	docs := norm(string(b))
	for _, d := range All() {
		for _, w := range d.Widgets() {
			if !w.Available {
				continue
			}
			if !strings.Contains(docs, norm(w.Description)) {
				t.Errorf("%s: description %q is not in docs/widgets.md", w.ID, w.Description)
			}
			if l := w.Query.Limit; l > 0 && !strings.Contains(w.Description, " "+strconv.Itoa(l)+" ") {
				t.Errorf("%s: description %q does not state the limit %d", w.ID, w.Description, l)
			}
		}
	}
}

func TestAllIsACopy(t *testing.T) {
	a := All()
	a[0].Title = "changed"
	a[0].Sections[0].Widgets[0].Title = "changed"
	b := All()
	if b[0].Title == "changed" || b[0].Sections[0].Widgets[0].Title == "changed" {
		t.Error("All shares state between calls")
	}
}

func TestGet(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{{"leadership", true}, {"engineering", true}, {"", false}, {"Leadership", false}, {"nope", false}} {
		d, ok := Get(c.id)
		if ok != c.ok || (ok && d.ID != c.id) {
			t.Errorf("Get(%q) = %q, %v; want ok %v", c.id, d.ID, ok, c.ok)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	f := func(name string, w Widget) {
		t.Helper()
		if w.Validate() == nil {
			t.Errorf("%s: Validate accepted %+v", name, w)
		}
	}
	f("unknown source", Widget{ID: "x", Kind: KindValue, Available: true, Query: Query{Source: "magic"}})
	f("unknown metric", Widget{ID: "x", Kind: KindValue, Available: true, Query: Query{Source: SourceCount, Metric: "nope"}})
	f("kind mismatch", Widget{ID: "x", Kind: KindToplist, Available: true, Query: Query{Source: SourceCount, Metric: "restarts"}})
	f("ratio without denominator", Widget{ID: "x", Kind: KindValue, Available: true, Query: Query{Source: SourceRatio, Metric: "restarts"}})
	f("events without limit", Widget{ID: "x", Kind: KindEvents, Available: true, Query: Query{Source: SourceEvents, Metric: "events"}})
	f("unavailable with query", Widget{ID: "x", Kind: KindValue, Query: Query{Source: SourceCount, Metric: "restarts"}})
	f("bad unit", Widget{ID: "x", Kind: KindValue, Unit: "ms", Available: true, Query: Query{Source: SourceCount, Metric: "restarts"}})
	f("usage unit on a count", Widget{ID: "x", Kind: KindValue, Unit: UnitCores, Available: true, Query: Query{Source: SourceCount, Metric: "restarts"}})
	f("usage without quantity", Widget{ID: "x", Kind: KindTimeseries, Unit: UnitCores, Available: true, Query: Query{Source: SourceUsageByPod}})
	f("quantity of another source", Widget{ID: "x", Kind: KindTimeseries, Unit: UnitBytes, Available: true, Query: Query{Source: SourceUsageByCronJob, Quantity: QuantityStorage}})
	f("quantity with the wrong unit", Widget{ID: "x", Kind: KindTimeseries, Unit: UnitBytes, Available: true, Query: Query{Source: SourceUsageByCronJob, Quantity: QuantityCPU}})
	f("quantity on a count", Widget{ID: "x", Kind: KindValue, Available: true, Query: Query{Source: SourceCount, Metric: "restarts", Quantity: QuantityCPU}})
}
