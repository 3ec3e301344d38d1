package dashboard

import "github.com/batchlens/batchlens/internal/store"

// All returns every dashboard, leadership first. Widget ids, titles and
// order follow docs/widgets.md and the seed; each call builds a fresh copy.
func All() []Dashboard {
	w := widgets()
	pick := func(ids ...string) []Widget {
		out := make([]Widget, 0, len(ids))
		for _, id := range ids {
			out = append(out, w[id]) // a missing id is caught by TestCatalogue
		}
		return out
	}
	return []Dashboard{
		{
			ID:    "leadership",
			Title: "Leadership",
			Sections: []Section{{
				ID:    "main",
				Title: "Overview",
				Widgets: pick("jobs", "success_rate", "failure_rate", "pods_failed",
					"pods_oom", "container_restarts", "pods_crashloop", "pods_pending"),
			}},
		},
		{
			ID:    "engineering",
			Title: "Engineering",
			Sections: []Section{
				{
					ID:    "overview",
					Title: "Overview",
					Widgets: pick("jobs", "jobs_succeeded", "jobs_failed", "pods_oom",
						"container_restarts", "pods_crashloop", "pods_bad_phase", "top_cronjobs",
						"events", "cronjob_resources", "cpu_by_cronjob", "memory_by_cronjob",
						"disk_by_cronjob", "network_by_cronjob", "network_errors_by_cronjob"),
				},
				{
					ID:    "detail",
					Title: "Detailed Pod/Container Information",
					Widgets: pick("pods_by_phase", "containers_by_state", "waiting_reasons",
						"terminated_reasons", "restarts_by_container", "cpu_by_pod", "memory_by_pod",
						"ephemeral_storage_by_pod", "network_by_pod", "network_errors_by_pod",
						"pod_states"),
				},
			},
		},
	}
}

// widgets returns every widget by id. A widget that appears on both
// dashboards is defined once here, so "as in leadership" holds by
// construction.
func widgets() map[string]Widget {
	count := func(m store.Metric) Query { return Query{Source: SourceCount, Metric: m} }
	usage := func(s Source, q Quantity) Query { return Query{Source: s, Quantity: q} }
	ws := []Widget{
		{
			ID: "jobs", Title: "Number of Jobs", Kind: KindValue, Available: true,
			Description: "Runs (Jobs, with or without a CronJob) created in the range.",
			Query:       count(store.RunsCreated),
		},
		{
			ID: "success_rate", Title: "Success Rate", Kind: KindValue, Unit: UnitPercent, Available: true,
			Description: "Pods that reached Succeeded in the range ÷ pods that reached Succeeded or Failed in the range × 100; null when no pod finished.",
			Query:       Query{Source: SourceRatio, Metric: store.PodsSucceeded, Denominator: store.PodsFinished},
		},
		{
			ID: "failure_rate", Title: "Failure Rate", Kind: KindValue, Unit: UnitPercent, Available: true,
			Description: "Pods that reached Failed in the range ÷ pods that finished in the range × 100; null when no pod finished.",
			Query:       Query{Source: SourceRatio, Metric: store.PodsFailed, Denominator: store.PodsFinished},
		},
		{
			ID: "pods_failed", Title: "Number of Pods Failed", Kind: KindValue, Available: true,
			Description: "Pods that reached phase Failed in the range (time: the pod's finish).",
			Query:       count(store.PodsFailed),
		},
		{
			ID: "pods_oom", Title: "Number of Pods Failed due to OOM", Kind: KindValue, Available: true,
			Description: "Pods with at least one container termination with reason OOMKilled; each pod counts once, at the finish time of its first OOM kill.",
			Query:       count(store.PodsOOM),
		},
		{
			ID: "container_restarts", Title: "Number of Container Restarts", Kind: KindValue, Available: true,
			Description: "Container restarts (each increment of a container's restartCount) that began in the range.",
			Query:       count(store.Restarts),
		},
		{
			ID: "pods_crashloop", Title: "Number of Pods Failed due to Crash Loop Back-Off Errors", Kind: KindValue, Available: true,
			Description: "Pods with at least one container waiting in CrashLoopBackOff; each pod counts once, at the first time one was seen.",
			Query:       count(store.PodsCrashLoop),
		},
		{
			ID: "pods_pending", Title: "Number of Pending Pods", Kind: KindValue, Available: true,
			Description: "Pods in phase Pending at the end of the range (now, for last=); its series is the number Pending at the end of each bucket.",
			Query:       Query{Source: SourcePending},
		},
		{
			ID: "jobs_succeeded", Title: "Successful Jobs", Kind: KindValue, Available: true,
			Description: "Runs whose Job reached Complete in the range (time: completionTime).",
			Query:       count(store.RunsSucceeded),
		},
		{
			ID: "jobs_failed", Title: "Failed Jobs", Kind: KindValue, Available: true,
			Description: "Runs whose Job reached Failed in the range (time: the Failed condition's transition).",
			Query:       count(store.RunsFailed),
		},
		{
			ID: "pods_bad_phase", Title: "Pods in Bad Phase (Pending, Failed)", Kind: KindTimeseries, Available: true,
			Description: "Two series: Pending (pods Pending at the end of each bucket) and Failed (pods that reached Failed in each bucket); values gives Pending at the end of the range and Failed over the range.",
			Query:       Query{Source: SourceBadPhase, Metric: store.PodsFailed},
		},
		{
			ID: "top_cronjobs", Title: "Top Cron Jobs by Job Count", Kind: KindToplist, Available: true,
			Description: "The 10 CronJobs with the most runs created in the range.",
			Query:       Query{Source: SourceTopCronJobs, Metric: store.RunsCreated, Limit: 10},
		},
		{
			ID: "events", Title: "Events", Kind: KindEvents, Available: true,
			Description: "The 50 most recent Kubernetes events whose last occurrence is in the range, newest first; total is how many events (deduplicated by UID) were seen in the range.",
			Query:       Query{Source: SourceEvents, Metric: store.Events, Limit: 50},
		},

		{
			ID: "cronjob_resources", Title: "CronJob Resource Consumption", Kind: KindTable, Available: true,
			Description: "One row per CronJob with usage in the range, most CPU first: average and peak CPU, core-seconds, average and peak memory, peak share of the memory limit, GB-seconds, disk and network bytes, network errors, and OOM risk (a run peaked over 90% of a container's memory limit).",
			Query:       Query{Source: SourceCronJobResources},
		},
		{
			ID: "cpu_by_cronjob", Title: "CPU Usage by Cron Job", Kind: KindTimeseries, Unit: UnitCores, Available: true,
			Description: "Average CPU cores used by each CronJob's pods in each bucket (core-seconds ÷ bucket seconds); the 10 highest CronJobs.",
			Query:       usage(SourceUsageByCronJob, QuantityCPU),
		},
		{
			ID: "memory_by_cronjob", Title: "Memory Usage by Cron Job", Kind: KindTimeseries, Unit: UnitBytes, Available: true,
			Description: "Average memory working set of each CronJob's pods in each bucket (byte-seconds ÷ bucket seconds); the 10 highest CronJobs.",
			Query:       usage(SourceUsageByCronJob, QuantityMemory),
		},
		{
			ID: "disk_by_cronjob", Title: "Disk Usage by Cron Job", Kind: KindTimeseries, Unit: UnitBytesPerSecond, Available: true,
			Description: "Disk bytes read and written by each CronJob's pods per second of each bucket; the 10 highest CronJobs.",
			Query:       usage(SourceUsageByCronJob, QuantityDisk),
		},
		{
			ID: "network_by_cronjob", Title: "Network Usage by Cron Job", Kind: KindTimeseries, Unit: UnitBytesPerSecond, Available: true,
			Description: "Network bytes received and sent by each CronJob's pods per second of each bucket; the 10 highest CronJobs.",
			Query:       usage(SourceUsageByCronJob, QuantityNetwork),
		},
		{
			ID: "network_errors_by_cronjob", Title: "Network Errors by Cron Job", Kind: KindTimeseries, Available: true,
			Description: "Network receive and transmit errors of each CronJob's pods in each bucket; the 10 highest CronJobs.",
			Query:       usage(SourceUsageByCronJob, QuantityNetworkErrors),
		},
		{
			ID: "cpu_by_pod", Title: "CPU by Pod (with Request and Limit)", Kind: KindTimeseries, Unit: UnitCores, Available: true,
			Description: "Average CPU cores used by each of the 10 pods with samples in the range that used the most CPU over their life, over the sampled time of each bucket, with the pod's request and limit.",
			Query:       usage(SourceUsageByPod, QuantityCPU),
		},
		{
			ID: "memory_by_pod", Title: "Memory by Pod (with Limit)", Kind: KindTimeseries, Unit: UnitBytes, Available: true,
			Description: "Peak memory working set in each bucket of each of the 10 pods with samples in the range that used the most CPU over their life, with the pod's request and limit.",
			Query:       usage(SourceUsageByPod, QuantityMemory),
		},
		{
			ID: "ephemeral_storage_by_pod", Title: "Ephemeral Storage by Pod", Kind: KindTimeseries, Unit: UnitBytes, Available: true,
			Description: "Peak ephemeral storage used in each bucket by each of the 10 pods with samples in the range that used the most CPU over their life, with the pod's limit.",
			Query:       usage(SourceUsageByPod, QuantityStorage),
		},
		{
			ID: "network_by_pod", Title: "Network by Pod", Kind: KindTimeseries, Unit: UnitBytesPerSecond, Available: true,
			Description: "Network bytes received and sent per sampled second of each bucket by each of the 10 pods with samples in the range that used the most CPU over their life.",
			Query:       usage(SourceUsageByPod, QuantityNetwork),
		},
		{
			ID: "network_errors_by_pod", Title: "Network Errors by Pod", Kind: KindTimeseries, Available: true,
			Description: "Network receive and transmit errors in each bucket of each of the 10 pods with samples in the range that used the most CPU over their life.",
			Query:       usage(SourceUsageByPod, QuantityNetworkErrors),
		},

		// Pod and container detail comes with a later issue; docs/widgets.md
		// does not define these yet, so they carry no query.
		{ID: "pods_by_phase", Title: "Pods by Phase", Kind: KindTimeseries,
			Description: "Pods in each phase over time."},
		{ID: "containers_by_state", Title: "Containers by State", Kind: KindTimeseries,
			Description: "Containers waiting, running and terminated over time."},
		{
			ID: "waiting_reasons", Title: "Container Waiting Reasons", Kind: KindTimeseries, Available: true,
			Description: "Waiting episodes of containers (a container waiting for one reason before one attempt) that began in the range, one series per reason; values gives each reason's number.",
			Query:       Query{Source: SourceBreakdown, Breakdown: store.WaitsByReason},
		},
		{
			ID: "terminated_reasons", Title: "Container Termination Reasons", Kind: KindTimeseries, Available: true,
			Description: "Container terminations (ended attempts) in the range, by the time they ended, one series per reason; values gives each reason's number.",
			Query:       Query{Source: SourceBreakdown, Breakdown: store.TerminationsByReason},
		},
		{
			ID: "restarts_by_container", Title: "Restarts by Container", Kind: KindTimeseries, Available: true,
			Description: "Container restarts that began in the range, one series per container name; values gives each container's number; they add up to container_restarts.",
			Query:       Query{Source: SourceBreakdown, Breakdown: store.RestartsByContainer},
		},
		{ID: "pod_states", Title: "Pod States", Kind: KindTable,
			Description: "Each pod's phase, container states, reasons and restarts."},
	}
	m := make(map[string]Widget, len(ws))
	for _, w := range ws {
		m[w.ID] = w
	}
	return m
}
