// Package datadog turns batchlens' dashboards (internal/dashboard, the one
// source of the UI and the API) into Datadog dashboards and monitors, and
// applies them to a Datadog organisation idempotently (Apply).
//
// Each catalogue widget has a Datadog definition per metric source, keyed by
// widget id (queries.go); the dashboards keep the catalogue's order, titles
// and sections. batchlens finds what it applied again by a tag: on monitors
// a real tag, in dashboards' descriptions (Datadog allows only team: tags
// on dashboards) the same text.
package datadog

import (
	"fmt"
	"strings"

	"github.com/batchlens/batchlens/internal/dashboard"
)

// ManagedTag marks everything batchlens applies.
const ManagedTag = "managed-by:batchlens"

// DashboardTag is the tag that names one generated dashboard: batchlens
// writes it into the dashboard's description and finds the dashboard by it.
func DashboardTag(id string, m Metrics) string {
	return "batchlens-dashboard:" + id + "-" + string(m)
}

// MonitorTag is the tag that names one generated monitor.
func MonitorTag(id string, m Metrics) string {
	return "batchlens-monitor:" + id + "-" + string(m)
}

// Named is a generated document with the id batchlens knows it by.
type Named[T any] struct {
	ID  string // catalogue dashboard id or monitor id
	Tag string // DashboardTag or MonitorTag
	Doc T
}

// Dashboards returns the catalogue's dashboards for metric source m, in
// order: a dashboard of one section has its widgets at the top level, one
// of several has a group per section.
func Dashboards(m Metrics) ([]Named[Dashboard], error) {
	ds := defs(m)
	var out []Named[Dashboard]
	for _, d := range dashboard.All() {
		tag := DashboardTag(d.ID, m)
		x := Dashboard{
			Title: d.Title + " Monitoring Dashboard — Data Science Batch Models (" + sourceName(m) + ")",
			Description: fmt.Sprintf("The batchlens %s dashboard over %s; every widget's meaning is in batchlens' docs/widgets.md and docs/datadog.md. Managed by batchlens: changes made here are overwritten by `batchlens datadog apply`. %s %s",
				d.ID, sourceName(m), ManagedTag, tag),
			LayoutType: "ordered",
			ReflowType: "auto",
		}
		for _, t := range templateTags() {
			x.TemplateVariables = append(x.TemplateVariables, TemplateVariable{Name: t, Prefix: t, Default: "*"})
		}
		for _, s := range d.Sections {
			var ws []Widget
			for _, w := range s.Widgets {
				def, ok := ds[w.ID]
				if !ok {
					return nil, fmt.Errorf("widget %s of dashboard %s has no Datadog definition", w.ID, d.ID)
				}
				ws = append(ws, Widget{Definition: widget(w, def)})
			}
			if len(d.Sections) == 1 {
				x.Widgets = ws
				break
			}
			x.Widgets = append(x.Widgets, Widget{Definition: Definition{Type: "group", Title: s.Title, LayoutType: "ordered", Widgets: ws}})
		}
		out = append(out, Named[Dashboard]{ID: d.ID, Tag: tag, Doc: x})
	}
	return out, nil
}

func sourceName(m Metrics) string {
	if m == Batchlens {
		return "batchlens' exact counters"
	}
	return "Kubernetes State Core and kubelet metrics"
}

// widget is the Datadog definition of catalogue widget w shown as d.
func widget(w dashboard.Widget, d def) Definition {
	x := Definition{Type: d.kind, Title: w.Title, Description: w.Description}
	if d.note != "" {
		x.Description = d.note
	}
	if d.kind == "event_stream" {
		x.Query, x.EventSize = "sources:kubernetes", "s"
		return x
	}
	r := Request{ResponseFormat: "scalar"}
	if d.kind == "timeseries" {
		r.ResponseFormat, r.DisplayType = "timeseries", "line"
	}
	for i, s := range d.series {
		q := Query{DataSource: "metrics", Name: queryName(i), Query: s.query}
		if r.ResponseFormat == "scalar" {
			q.Aggregator = d.agg
		}
		r.Queries = append(r.Queries, q)
	}
	formulas := d.formulas
	if len(formulas) == 0 {
		for i := range d.series {
			formulas = append(formulas, queryName(i))
		}
	}
	for i, f := range formulas {
		alias := w.Title
		if len(formulas) > 1 || d.kind != "query_value" {
			alias = d.series[min(i, len(d.series)-1)].alias
		}
		fm := Formula{Formula: f, Alias: alias}
		if d.limit > 0 {
			fm.Limit = &Limit{Count: d.limit, Order: "desc"}
		}
		r.Formulas = append(r.Formulas, fm)
	}
	x.Requests = []Request{r}
	if d.kind == "query_value" {
		precision := 0
		if d.unit == "%" {
			precision, x.CustomUnit = 1, "%"
		}
		x.Precision = &precision
	}
	return x
}

func queryName(i int) string { return string(rune('a' + i)) }

// monitorScope groups a monitor by CronJob, so that each alerts on its own.
const monitorScope = "kube_cluster_name,kube_namespace,kube_cronjob"

// Monitors returns the monitors for metric source m: OOMKilled pods,
// CrashLoopBackOff, failed jobs, pods Pending too long and a failure-rate
// spike.
func Monitors(m Metrics) []Named[Monitor] {
	type spec struct {
		id, name, kube, batchlens, message string
		critical, batchlensCritical        float64 // batchlensCritical: when not critical
		warning                            *float64
		priority                           int64
	}
	warn := 10.0
	by := " by {" + monitorScope + "}"
	specs := []spec{
		{id: "oom_killed", name: "OOMKilled pods", priority: 2, critical: 0,
			kube:      "max(last_5m):sum:" + ksmTerminated + "{reason:oomkilled}" + by + " > 0",
			batchlens: "sum(last_5m):sum:batchlens.oom_kills.count{*}" + by + ".as_count() > 0",
			message:   "A pod of CronJob {{kube_cronjob.name}} in {{kube_namespace.name}} ({{kube_cluster_name.name}}) was OOMKilled: raise its memory limit or cut its memory use."},
		{id: "crashloop", name: "Pods in CrashLoopBackOff", priority: 2, critical: 0,
			kube:      "max(last_5m):sum:" + ksmWaiting + "{reason:crashloopbackoff}" + by + " > 0",
			batchlens: "sum(last_5m):sum:batchlens.crashloop_pods.count{*}" + by + ".as_count() > 0",
			message:   "A container of CronJob {{kube_cronjob.name}} in {{kube_namespace.name}} ({{kube_cluster_name.name}}) is crash-looping: see its logs and the termination reason in batchlens."},
		{id: "failed_jobs", name: "Failed jobs", priority: 2, critical: 0,
			kube:      "max(last_5m):sum:" + ksmJobFailed + "{*}" + by + " > 0",
			batchlens: "sum(last_10m):sum:batchlens.job_runs.count{outcome:failed}" + by + ".as_count() > 0",
			message:   "A run of CronJob {{kube_cronjob.name}} in {{kube_namespace.name}} ({{kube_cluster_name.name}}) failed (backoff limit, deadline or pod failure policy)."},
		{id: "pending_too_long", name: "Pods Pending for 30 minutes", priority: 3, critical: 0, batchlensCritical: 1800,
			kube:      "min(last_30m):sum:" + ksmPodPhase + "{pod_phase:pending}" + by + " > 0",
			batchlens: "max(last_5m):max:batchlens.pending_pod_max_age_seconds{*}" + by + " > 1800",
			message:   "CronJob {{kube_cronjob.name}} in {{kube_namespace.name}} ({{kube_cluster_name.name}}) has had pods Pending for 30 minutes: unschedulable, image pulls or quota."},
		{id: "failure_rate_spike", name: "Pod failure rate above 20%", priority: 2, critical: 20, warning: &warn,
			kube: "avg(last_30m):100 * sum:" + ksmPodPhase + "{pod_phase:failed} by {kube_cluster_name} / (sum:" + ksmPodPhase +
				"{pod_phase:failed} by {kube_cluster_name} + sum:" + ksmPodPhase + "{pod_phase:succeeded} by {kube_cluster_name}) > 20",
			batchlens: "sum(last_1h):100 * sum:batchlens.pods_finished.count{phase:failed} by {kube_cluster_name}.as_count() / sum:batchlens.pods_finished.count{*} by {kube_cluster_name}.as_count() > 20",
			message:   "More than 20% of the pods that finished in {{kube_cluster_name.name}} failed: see the Engineering dashboard."},
	}
	var out []Named[Monitor]
	for _, s := range specs {
		q, critical := s.kube, s.critical
		if m == Batchlens {
			q = s.batchlens
			if s.batchlensCritical != 0 {
				critical = s.batchlensCritical
			}
		}
		tag := MonitorTag(s.id, m)
		out = append(out, Named[Monitor]{ID: s.id, Tag: tag, Doc: Monitor{
			Name:     "[batchlens] " + s.name + " (" + string(m) + ")",
			Type:     "query alert",
			Query:    q,
			Message:  s.message + "\n\nManaged by batchlens (`batchlens datadog apply`).",
			Tags:     []string{ManagedTag, tag, "batchlens-metrics:" + string(m)},
			Priority: s.priority,
			Options: MonitorOptions{
				Thresholds:        Thresholds{Critical: critical, Warning: s.warning},
				RequireFullWindow: false,
				IncludeTags:       true,
				NewGroupDelay:     60,
			},
		}})
	}
	return out
}

// Title is how a report names a document.
func title[T any](n Named[T]) string {
	switch d := any(n.Doc).(type) {
	case Dashboard:
		return "dashboard " + strings.TrimSpace(d.Title)
	case Monitor:
		return "monitor " + d.Name
	}
	return n.ID
}
