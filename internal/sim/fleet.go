package sim

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Outcome is what happens to one run of a Spec. Each run draws one from its
// Spec's Behavior; the run's attempts, pods and Job status follow from it
// and from the Spec's restart policy, backoff limit and deadline.
type Outcome int

// The outcomes. "Attempt" is one container run: under restartPolicy Never
// each attempt is a new pod, under OnFailure a restart in the same pod.
const (
	// Succeed: one attempt that exits 0.
	Succeed Outcome = iota
	// Flash: one attempt that exits 0, and the pod lives under a second:
	// created, run and finished within one second, never seen Running.
	Flash
	// Retried: the first attempt exits 1, the second exits 0.
	Retried
	// ErrorExit: every attempt exits 1 until the Job fails with
	// BackoffLimitExceeded (under OnFailure: a crash loop that hits the limit).
	ErrorExit
	// OOMKilled: every attempt is OOM-killed (exit 137) until the Job fails
	// with BackoffLimitExceeded.
	OOMKilled
	// OOMRestart: the first attempt is OOM-killed, the second exits 0.
	OOMRestart
	// CrashLoop: two to four attempts exit 1 (CrashLoopBackOff between them
	// under OnFailure), then one exits 0.
	CrashLoop
	// ImagePull: the image never pulls (ErrImagePull, ImagePullBackOff); the
	// Job fails with DeadlineExceeded and its pending pod is deleted.
	ImagePull
	// Evicted: the first pod is evicted for memory pressure while running;
	// its replacement succeeds.
	Evicted
	// Deadline: the container outlives the Job's activeDeadlineSeconds; the
	// Job fails with DeadlineExceeded and the running pod is killed.
	Deadline
	// Unschedulable: the first pod is unschedulable for one to five minutes
	// (FailedScheduling), then it is scheduled, runs and succeeds.
	Unschedulable
	// NeverScheduled: the pod is never scheduled; the Job fails with
	// DeadlineExceeded and the pod is deleted while still Pending.
	NeverScheduled

	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	"Succeed", "Flash", "Retried", "ErrorExit", "OOMKilled", "OOMRestart",
	"CrashLoop", "ImagePull", "Evicted", "Deadline", "Unschedulable", "NeverScheduled",
}

func (o Outcome) String() string {
	if o < 0 || o >= numOutcomes {
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// needsDeadline reports whether the outcome ends only through the Job's
// activeDeadlineSeconds.
func (o Outcome) needsDeadline() bool {
	return o == ImagePull || o == Deadline || o == NeverScheduled
}

// Mix weighs the outcomes of a Spec's runs. Runs are dealt outcomes from a
// deck holding each outcome o Mix[o] times, shuffled anew each time it is
// used up: over each deck's worth of runs the weights hold exactly.
type Mix map[Outcome]int

// Spec is one member of the fleet: a CronJob, or, when Schedule is empty,
// a generator of plain Jobs that no CronJob owns.
type Spec struct {
	Namespace string
	Name      string
	// Schedule is a standard five-field cron schedule, evaluated in UTC.
	// Empty makes the Spec a generator of plain Jobs, one about every Every
	// (±30%), named Name-xxxxx.
	Schedule string
	Every    time.Duration

	Image string
	// PullAlways sets imagePullPolicy Always (every pod pulls; needed for
	// the ImagePull outcome to make sense); otherwise IfNotPresent.
	PullAlways bool
	Command    []string
	CPU        string // request, e.g. "500m"
	Memory     string // request; the limit is twice as much
	// MemoryPeak is the share of the memory limit that the working set of
	// an attempt creeps up to by its end; zero draws 30%–75% per attempt.
	// OOM-killed attempts creep up to the limit itself.
	MemoryPeak float64

	RestartPolicy corev1.RestartPolicy // Never or OnFailure
	BackoffLimit  int32
	// ActiveDeadline is the Job's activeDeadlineSeconds; zero means none.
	// Outcomes ImagePull, Deadline and NeverScheduled need one.
	ActiveDeadline time.Duration
	// TTLAfterFinished is the Job's ttlSecondsAfterFinished; nil means none.
	TTLAfterFinished *int32

	// Runtime is how long a normal attempt runs; each draws 50%–150% of it.
	Runtime  time.Duration
	Behavior Mix
}

// DefaultFleet is twenty-one CronJobs across the namespaces forecasting, recsys
// and fraud, on schedules from every minute (in banking hours) to daily, plus
// two generators of plain Jobs: about 9,900 runs a week. Outside banking
// hours every Outcome still has about six expected occurrences in any six
// hours, so all of them occur within a few hours of any start.
func DefaultFleet() []Spec {
	const reg = "registry.internal.example/"
	py := func(module string) []string { return []string{"python", "-m", module} }
	never, onFailure := corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure
	ttl := func(s int32) *int32 { return &s }
	return []Spec{
		// fraud
		{Namespace: "fraud", Name: "wire-screening", Schedule: "* 8-17 * * 1-5",
			Image: reg + "fraud/wire-screening:3.8.2", Command: py("screening.micro_batch"), CPU: "250m", Memory: "512Mi",
			RestartPolicy: never, BackoffLimit: 1, ActiveDeadline: 5 * time.Minute, Runtime: 20 * time.Second,
			Behavior: Mix{Succeed: 68, Flash: 30, Retried: 2}},
		{Namespace: "fraud", Name: "velocity-aggregates", Schedule: "*/5 * * * *",
			Image: reg + "fraud/velocity-aggregates:1.12.0", Command: py("features.velocity"), CPU: "500m", Memory: "1Gi",
			RestartPolicy: onFailure, BackoffLimit: 4, ActiveDeadline: 20 * time.Minute, Runtime: 90 * time.Second,
			Behavior: Mix{Succeed: 64, Flash: 8, Retried: 4, CrashLoop: 6, OOMRestart: 5, ErrorExit: 4, Evicted: 3, Unschedulable: 4, NeverScheduled: 2}},
		{Namespace: "fraud", Name: "graph-features", Schedule: "*/30 * * * *",
			Image: reg + "fraud/graph-features:0.9.4", Command: py("features.graph"), CPU: "2", Memory: "6Gi",
			RestartPolicy: never, BackoffLimit: 2, ActiveDeadline: 30 * time.Minute, TTLAfterFinished: ttl(120),
			Runtime: 8 * time.Minute, Behavior: Mix{Succeed: 74, Evicted: 8, Deadline: 6, OOMKilled: 8, ErrorExit: 4}},
		{Namespace: "fraud", Name: "model-drift-monitor", Schedule: "45 * * * *",
			Image: reg + "fraud/drift-monitor:2.1.0", Command: py("monitoring.drift"), CPU: "500m", Memory: "2Gi",
			RestartPolicy: onFailure, BackoffLimit: 3, ActiveDeadline: time.Hour, Runtime: 4 * time.Minute,
			Behavior: Mix{Succeed: 88, CrashLoop: 6, OOMRestart: 6}},
		// Its memory creeps up close to its limit every run, until one run
		// in ten is OOM-killed.
		{Namespace: "fraud", Name: "rules-backtest", Schedule: "0 */4 * * *",
			Image: reg + "fraud/rules-backtest:5.0.1", Command: py("rules.backtest"), CPU: "1", Memory: "4Gi", MemoryPeak: 0.93,
			RestartPolicy: never, BackoffLimit: 2, ActiveDeadline: 2 * time.Hour, Runtime: 25 * time.Minute,
			Behavior: Mix{Succeed: 90, OOMKilled: 10}},
		{Namespace: "fraud", Name: "chargeback-labels", Schedule: "0 4 * * *",
			Image: reg + "fraud/chargeback-labels:1.4.3", Command: py("labels.chargebacks"), CPU: "500m", Memory: "1Gi",
			RestartPolicy: never, BackoffLimit: 3, Runtime: 12 * time.Minute, Behavior: Mix{Succeed: 95, Retried: 5}},
		{Namespace: "fraud", Name: "sanctions-list-sync", Schedule: "30 5 * * *",
			Image: reg + "fraud/sanctions-sync:0.3.0", Command: py("sync.sanctions"), CPU: "100m", Memory: "256Mi",
			RestartPolicy: onFailure, BackoffLimit: 6, Runtime: 2 * time.Minute, TTLAfterFinished: ttl(3600),
			Behavior: Mix{Succeed: 100}},

		// recsys
		{Namespace: "recsys", Name: "user-features", Schedule: "*/10 * * * *",
			Image: reg + "recsys/user-features:latest", PullAlways: true, Command: py("features.user"), CPU: "1", Memory: "2Gi",
			RestartPolicy: onFailure, BackoffLimit: 3, ActiveDeadline: 15 * time.Minute, Runtime: time.Minute,
			Behavior: Mix{Succeed: 68, Retried: 3, ImagePull: 7, CrashLoop: 6, OOMRestart: 5, ErrorExit: 4, NeverScheduled: 4, Deadline: 3}},
		{Namespace: "recsys", Name: "session-stitcher", Schedule: "*/15 * * * *",
			Image: reg + "recsys/session-stitcher:2.3.7", Command: py("sessions.stitch"), CPU: "1", Memory: "3Gi",
			RestartPolicy: onFailure, BackoffLimit: 4, ActiveDeadline: 30 * time.Minute, TTLAfterFinished: ttl(600),
			Runtime: 2 * time.Minute, Behavior: Mix{Succeed: 70, CrashLoop: 6, OOMRestart: 6, Evicted: 5, Deadline: 4, NeverScheduled: 3, ErrorExit: 3, Retried: 3}},
		{Namespace: "recsys", Name: "candidate-gen", Schedule: "*/20 * * * *",
			Image: reg + "recsys/candidate-gen:latest", PullAlways: true, Command: py("candidates.generate"), CPU: "2", Memory: "4Gi",
			RestartPolicy: never, BackoffLimit: 2, ActiveDeadline: 25 * time.Minute, Runtime: 6 * time.Minute,
			Behavior: Mix{Succeed: 69, ImagePull: 12, Deadline: 8, NeverScheduled: 6, ErrorExit: 5}},
		{Namespace: "recsys", Name: "ab-metrics-rollup", Schedule: "15 * * * *",
			Image: reg + "recsys/ab-metrics:4.0.0", Command: py("experiments.rollup"), CPU: "500m", Memory: "1Gi",
			RestartPolicy: never, BackoffLimit: 2, Runtime: 3 * time.Minute, Behavior: Mix{Succeed: 90, Retried: 10}},
		{Namespace: "recsys", Name: "embeddings-refresh", Schedule: "0 */2 * * *",
			Image: reg + "recsys/embeddings:7.2.1", Command: py("embeddings.refresh"), CPU: "4", Memory: "12Gi",
			RestartPolicy: onFailure, BackoffLimit: 3, ActiveDeadline: 90 * time.Minute, Runtime: 20 * time.Minute,
			Behavior: Mix{Succeed: 85, OOMRestart: 10, Evicted: 5}},
		{Namespace: "recsys", Name: "catalog-snapshot", Schedule: "0 */6 * * *",
			Image: reg + "recsys/catalog-snapshot:1.0.9", Command: py("catalog.snapshot"), CPU: "250m", Memory: "512Mi",
			RestartPolicy: never, BackoffLimit: 1, Runtime: 5 * time.Minute, TTLAfterFinished: ttl(300),
			Behavior: Mix{Succeed: 100}},
		{Namespace: "recsys", Name: "ranking-model-train", Schedule: "0 1 * * *",
			Image: reg + "recsys/ranking-train:12.4.0", Command: py("ranking.train"), CPU: "8", Memory: "24Gi",
			RestartPolicy: never, BackoffLimit: 1, ActiveDeadline: 4 * time.Hour, Runtime: 90 * time.Minute,
			Behavior: Mix{Succeed: 85, OOMKilled: 10, Deadline: 5}},

		// forecasting
		{Namespace: "forecasting", Name: "inventory-sync", Schedule: "*/15 * * * *",
			Image: reg + "forecasting/inventory-sync:2.0.3", Command: py("inventory.sync"), CPU: "500m", Memory: "1Gi",
			RestartPolicy: never, BackoffLimit: 2, ActiveDeadline: 20 * time.Minute, Runtime: 2 * time.Minute,
			Behavior: Mix{Succeed: 62, Retried: 6, ErrorExit: 8, OOMKilled: 8, Evicted: 4, Unschedulable: 4, NeverScheduled: 4, Flash: 4}},
		{Namespace: "forecasting", Name: "store-traffic-nowcast", Schedule: "*/30 * * * *",
			Image: reg + "forecasting/nowcast:latest", PullAlways: true, Command: py("nowcast.run"), CPU: "1", Memory: "2Gi",
			RestartPolicy: never, BackoffLimit: 2, ActiveDeadline: 15 * time.Minute, Runtime: 3 * time.Minute,
			Behavior: Mix{Succeed: 66, ImagePull: 8, OOMKilled: 10, Deadline: 4, Unschedulable: 5, NeverScheduled: 3, ErrorExit: 4}},
		{Namespace: "forecasting", Name: "weather-features", Schedule: "*/20 * * * *",
			Image: reg + "forecasting/weather-features:1.7.0", Command: py("features.weather"), CPU: "500m", Memory: "1536Mi",
			RestartPolicy: never, BackoffLimit: 2, ActiveDeadline: 30 * time.Minute, Runtime: 4 * time.Minute,
			Behavior: Mix{Succeed: 70, OOMKilled: 10, Evicted: 6, Unschedulable: 8, ErrorExit: 6}},
		{Namespace: "forecasting", Name: "demand-forecast-hourly", Schedule: "0 * * * *",
			Image: reg + "forecasting/demand-forecast:6.3.0", Command: py("forecast.hourly"), CPU: "2", Memory: "8Gi",
			RestartPolicy: onFailure, BackoffLimit: 3, ActiveDeadline: 50 * time.Minute, Runtime: 15 * time.Minute,
			Behavior: Mix{Succeed: 85, OOMRestart: 8, CrashLoop: 7}},
		{Namespace: "forecasting", Name: "price-elasticity", Schedule: "30 2 * * *",
			Image: reg + "forecasting/price-elasticity:3.3.1", Command: py("pricing.elasticity"), CPU: "4", Memory: "16Gi",
			RestartPolicy: never, BackoffLimit: 2, ActiveDeadline: 3 * time.Hour, Runtime: time.Hour,
			Behavior: Mix{Succeed: 90, OOMKilled: 10}},
		{Namespace: "forecasting", Name: "hierarchical-reconcile", Schedule: "0 3 * * *",
			Image: reg + "forecasting/reconcile:1.1.2", Command: py("forecast.reconcile"), CPU: "2", Memory: "6Gi",
			RestartPolicy: onFailure, BackoffLimit: 3, ActiveDeadline: 2 * time.Hour, Runtime: 40 * time.Minute,
			Behavior: Mix{Succeed: 90, CrashLoop: 10}},

		// A model waiting for GPU nodes the cluster does not have yet: every
		// run sits Pending until its deadline, so some pod is always Pending.
		{Namespace: "forecasting", Name: "gpu-demand-transformer", Schedule: "*/15 * * * *",
			Image: reg + "forecasting/demand-transformer:0.2.0", Command: py("forecast.transformer"), CPU: "4", Memory: "16Gi",
			RestartPolicy: never, BackoffLimit: 1, ActiveDeadline: 40 * time.Minute, Runtime: 20 * time.Minute,
			Behavior: Mix{NeverScheduled: 100}},

		// plain Jobs, created by pipelines now and then
		{Namespace: "forecasting", Name: "adhoc-backfill", Every: 2 * time.Hour,
			Image: reg + "forecasting/demand-forecast:6.3.0", Command: py("forecast.backfill"), CPU: "1", Memory: "4Gi",
			RestartPolicy: never, BackoffLimit: 1, TTLAfterFinished: ttl(300), Runtime: 10 * time.Minute,
			Behavior: Mix{Succeed: 85, Retried: 10, OOMKilled: 5}},
		{Namespace: "recsys", Name: "feature-backfill", Every: 3 * time.Hour,
			Image: reg + "recsys/user-features:latest", PullAlways: true, Command: py("features.backfill"), CPU: "1", Memory: "2Gi",
			RestartPolicy: onFailure, BackoffLimit: 2, TTLAfterFinished: ttl(60), Runtime: 6 * time.Minute,
			Behavior: Mix{Succeed: 90, OOMRestart: 10}},
	}
}

// validate panics with a clear message when sp cannot be simulated.
func (sp *Spec) validate() {
	where := sp.Namespace + "/" + sp.Name
	if sp.Namespace == "" || sp.Name == "" {
		panic("sim: Spec needs a Namespace and a Name")
	}
	if sp.Schedule == "" && sp.Every <= 0 {
		panic("sim: " + where + ": a Spec without Schedule needs Every > 0")
	}
	if sp.RestartPolicy != corev1.RestartPolicyNever && sp.RestartPolicy != corev1.RestartPolicyOnFailure {
		panic("sim: " + where + ": RestartPolicy must be Never or OnFailure")
	}
	if sp.BackoffLimit < 1 {
		panic("sim: " + where + ": BackoffLimit must be at least 1")
	}
	total := 0
	for o, w := range sp.Behavior {
		if o < 0 || o >= numOutcomes || w < 0 {
			panic(fmt.Sprintf("sim: %s: bad Behavior entry %v: %d", where, o, w))
		}
		if w > 0 && o.needsDeadline() && sp.ActiveDeadline <= 0 {
			panic(fmt.Sprintf("sim: %s: outcome %v needs an ActiveDeadline", where, o))
		}
		total += w
	}
	if total == 0 {
		panic("sim: " + where + ": Behavior has no weight")
	}
}
