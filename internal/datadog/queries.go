package datadog

import (
	"fmt"
	"strings"
)

// Metrics names where a dashboard's numbers come from.
type Metrics string

// The metric sources.
const (
	// Kubernetes: what the Datadog Agent's Kubernetes State Core and kubelet
	// checks send. Sampled gauges: see docs/datadog.md for what they miss.
	Kubernetes Metrics = "kubernetes"
	// Batchlens: batchlens' own exact counters (internal/metrics), through
	// the Agent's OpenMetrics check or DogStatsD.
	Batchlens Metrics = "batchlens"
)

// ParseMetrics returns the source named s.
func ParseMetrics(s string) (Metrics, error) {
	switch m := Metrics(s); m {
	case Kubernetes, Batchlens:
		return m, nil
	}
	return "", fmt.Errorf("metrics %q: want %s or %s", s, Kubernetes, Batchlens)
}

// templateTags are the tags of the dashboards' template variables, which
// every widget query filters by.
func templateTags() []string { return []string{"kube_cluster_name", "kube_namespace", "kube_cronjob"} }

// scope is a query's tag filter: the given tags and every template variable.
func scope(tags ...string) string {
	for _, t := range templateTags() {
		tags = append(tags, "$"+t)
	}
	return "{" + strings.Join(tags, ",") + "}"
}

// def is how Datadog shows one catalogue widget.
type def struct {
	kind     string   // Datadog widget type
	note     string   // what the Datadog figure is, when it is not the catalogue's
	series   []series // the queries, named a, b, c, …
	formulas []string // over the queries, aliased like them; none: one per query
	agg      string   // scalar aggregator (query_value, toplist, query_table)
	unit     string
	limit    int64 // toplist rows
}

type series struct{ alias, query string }

func value(agg, note string, s ...series) def {
	return def{kind: "query_value", agg: agg, note: note, series: s}
}

func lines(note string, s ...series) def { return def{kind: "timeseries", note: note, series: s} }

// ratio is 100 × a ÷ (a + b), a percentage.
func ratio(agg, note string, a, b series) def {
	d := value(agg, note, a, b)
	d.formulas, d.unit = []string{"100 * a / (a + b)"}, "%"
	return d
}

// The Kubernetes State Core and kubelet metrics (verified against
// Datadog's published metadata; sources in docs/datadog.md).
const (
	ksmJobCount        = "kubernetes_state.job.count"
	ksmJobSucceeded    = "kubernetes_state.job.completion.succeeded"
	ksmJobFailed       = "kubernetes_state.job.completion.failed"
	ksmPodPhase        = "kubernetes_state.pod.status_phase"
	ksmTerminated      = "kubernetes_state.container.status_report.count.terminated"
	ksmWaiting         = "kubernetes_state.container.status_report.count.waiting"
	ksmRestarts        = "kubernetes_state.container.restarts"
	ksmRunning         = "kubernetes_state.container.running"
	ksmWaitingState    = "kubernetes_state.container.waiting"
	ksmTerminatedState = "kubernetes_state.container.terminated"
	ksmCPURequested    = "kubernetes_state.container.cpu_requested"
	ksmCPULimit        = "kubernetes_state.container.cpu_limit"
	ksmMemoryLimit     = "kubernetes_state.container.memory_limit"
	kubeCPU            = "kubernetes.cpu.usage.total"
	kubeMemory         = "kubernetes.memory.usage"
	kubeReadBytes      = "kubernetes.io.read_bytes"
	kubeWriteBytes     = "kubernetes.io.write_bytes"
	kubeRxBytes        = "kubernetes.network.rx_bytes"
	kubeTxBytes        = "kubernetes.network.tx_bytes"
	kubeRxErrors       = "kubernetes.network.rx_errors"
	kubeTxErrors       = "kubernetes.network.tx_errors"
	kubeEphemeral      = "kubernetes.ephemeral_storage.usage"
)

func sum(metric string, tags []string, by string) string {
	q := "sum:" + metric + scope(tags...)
	if by != "" {
		q += " by {" + by + "}"
	}
	return q
}

func tags(t ...string) []string { return t }

// kubernetesDefs shows every catalogue widget with the metrics the Datadog
// Agent's Kubernetes checks send.
func kubernetesDefs() map[string]def {
	phase := func(p string) series { return series{p, sum(ksmPodPhase, tags("pod_phase:"+p), "")} }
	byCronJob := func(alias, metric string) series { return series{alias, sum(metric, nil, "kube_cronjob")} }
	byPod := func(alias, metric string) series { return series{alias, sum(metric, nil, "pod_name")} }
	return map[string]def{
		"jobs": value("max", "Most Job objects that existed at once in the range (kubernetes_state.job.count): Jobs deleted between two checks, or by their TTL, are missed.",
			series{"jobs", sum(ksmJobCount, nil, "")}),
		"jobs_succeeded": value("max", "Most Jobs complete at once (kubernetes_state.job.completion.succeeded), while they still exist.",
			series{"succeeded", sum(ksmJobSucceeded, nil, "")}),
		"jobs_failed": value("max", "Most Jobs failed at once (kubernetes_state.job.completion.failed), while they still exist.",
			series{"failed", sum(ksmJobFailed, nil, "")}),
		"success_rate": ratio("last", "Pods Succeeded ÷ pods Succeeded or Failed, among the pods that exist at the end of the range.",
			phase("succeeded"), phase("failed")),
		"failure_rate": ratio("last", "Pods Failed ÷ pods Succeeded or Failed, among the pods that exist at the end of the range.",
			phase("failed"), phase("succeeded")),
		"pods_failed": value("last", "Pods in phase Failed that still exist at the end of the range.", phase("failed")),
		"pods_oom": value("max", "Most containers at once whose current state is terminated with reason OOMKilled; a container restarted before the check is missed.",
			series{"oomkilled", sum(ksmTerminated, tags("reason:oomkilled"), "")}),
		"container_restarts": {kind: "query_value", agg: "sum", formulas: []string{"monotonic_diff(a)"},
			note:   "Increase of each container's restart count between checks; restarts of pods deleted before a check are missed.",
			series: []series{{"restarts", sum(ksmRestarts, nil, "kube_namespace,pod_name,kube_container_name")}}},
		"pods_crashloop": value("max", "Most containers at once waiting in CrashLoopBackOff.",
			series{"crashloopbackoff", sum(ksmWaiting, tags("reason:crashloopbackoff"), "")}),
		"pods_pending":   value("last", "Pods in phase Pending at the end of the range.", phase("pending")),
		"pods_bad_phase": lines("Pods in phase Pending and Failed at each check.", phase("pending"), phase("failed")),
		"top_cronjobs": {kind: "toplist", agg: "max", limit: 10, note: "CronJobs by the most of their Job objects that existed at once.",
			series: []series{byCronJob("jobs", ksmJobCount)}},
		"events": {kind: "event_stream", note: "Kubernetes events collected by the Datadog Agent."},
		"cronjob_resources": {kind: "query_table", agg: "avg", note: "Average CPU (nanocores) and memory (bytes) of each CronJob's containers over the range.",
			series: []series{byCronJob("cpu (nanocores)", kubeCPU), byCronJob("memory (bytes)", kubeMemory)}},
		"cpu_by_cronjob":            lines("", byCronJob("cpu (nanocores)", kubeCPU)),
		"memory_by_cronjob":         lines("", byCronJob("memory", kubeMemory)),
		"disk_by_cronjob":           lines("", byCronJob("read", kubeReadBytes), byCronJob("written", kubeWriteBytes)),
		"network_by_cronjob":        lines("", byCronJob("received/s", kubeRxBytes), byCronJob("sent/s", kubeTxBytes)),
		"network_errors_by_cronjob": lines("", byCronJob("rx errors/s", kubeRxErrors), byCronJob("tx errors/s", kubeTxErrors)),
		"pods_by_phase":             lines("", series{"pods", sum(ksmPodPhase, nil, "pod_phase")}),
		"containers_by_state": lines("", series{"running", sum(ksmRunning, nil, "")}, series{"waiting", sum(ksmWaitingState, nil, "")},
			series{"terminated", sum(ksmTerminatedState, nil, "")}),
		"waiting_reasons":    lines("", series{"waiting", sum(ksmWaiting, nil, "reason")}),
		"terminated_reasons": lines("", series{"terminated", sum(ksmTerminated, nil, "reason")}),
		"restarts_by_container": {kind: "timeseries", formulas: []string{"monotonic_diff(a)"},
			series: []series{{"restarts", sum(ksmRestarts, nil, "kube_namespace,pod_name,kube_container_name")}}},
		"cpu_by_pod": {kind: "timeseries", formulas: []string{"a / 1000000000", "b", "c"}, note: "CPU used (cores), requested and limited, by pod.",
			series: []series{byPod("used", kubeCPU), byPod("requested", ksmCPURequested), byPod("limit", ksmCPULimit)}},
		"memory_by_pod":            lines("", byPod("used", kubeMemory), byPod("limit", ksmMemoryLimit)),
		"ephemeral_storage_by_pod": lines("", byPod("used", kubeEphemeral)),
		"network_by_pod":           lines("", byPod("received/s", kubeRxBytes), byPod("sent/s", kubeTxBytes)),
		"network_errors_by_pod":    lines("", byPod("rx errors/s", kubeRxErrors), byPod("tx errors/s", kubeTxErrors)),
		"pod_states": {kind: "query_table", agg: "last", note: "Each pod's phase at the end of the range.",
			series: []series{{"pods", sum(ksmPodPhase, nil, "pod_name,pod_phase")}}},
	}
}

// batchlensDefs shows the counting widgets with batchlens' exact counters;
// the widgets it has no counter for (events, resources, pod and container
// detail) keep the Kubernetes metrics. Counters are summed over the range
// (.as_count()), so the figure is what batchlens counted in the range.
func batchlensDefs() map[string]def {
	count := func(alias, metric string, t ...string) series {
		return series{alias, sum(metric, t, "") + ".as_count()"}
	}
	runs := func(outcome string) series { return count(outcome, "batchlens.job_runs.count", "outcome:"+outcome) }
	finished := func(phase string) series { return count(phase, "batchlens.pods_finished.count", "phase:"+phase) }
	pending := series{"pending", sum("batchlens.pods", tags("phase:pending"), "")}
	d := kubernetesDefs()
	for id, x := range map[string]def{
		"jobs":               value("sum", "", runs("created")),
		"jobs_succeeded":     value("sum", "", runs("succeeded")),
		"jobs_failed":        value("sum", "", runs("failed")),
		"success_rate":       ratio("sum", "", finished("succeeded"), finished("failed")),
		"failure_rate":       ratio("sum", "", finished("failed"), finished("succeeded")),
		"pods_failed":        value("sum", "", finished("failed")),
		"pods_oom":           value("sum", "", count("pods", "batchlens.oom_kills.count")),
		"container_restarts": value("sum", "", count("restarts", "batchlens.container_restarts.count")),
		"pods_crashloop":     value("sum", "", count("pods", "batchlens.crashloop_pods.count")),
		"pods_pending":       value("last", "", pending),
		"pods_bad_phase":     lines("", pending, finished("failed")),
		"top_cronjobs": {kind: "toplist", agg: "sum", limit: 10,
			series: []series{{"runs", sum("batchlens.job_runs.count", tags("outcome:created"), "kube_cronjob") + ".as_count()"}}},
	} {
		d[id] = x
	}
	return d
}

// defs returns the widget definitions of source m, by catalogue widget id.
func defs(m Metrics) map[string]def {
	if m == Batchlens {
		return batchlensDefs()
	}
	return kubernetesDefs()
}
