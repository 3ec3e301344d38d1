// Package model holds the domain types of batchlens: the facts the ledger
// derives from Kubernetes objects and the store keeps. Every fact carries the
// cluster it came from and a natural key, so writing it twice changes nothing.
//
// Times are UTC. A zero time.Time means "not known (yet)".
package model

import "time"

// Pod phases, as Kubernetes spells them.
const (
	PhasePending   = "Pending"
	PhaseRunning   = "Running"
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"
	PhaseUnknown   = "Unknown"
)

// Run outcomes. A run whose outcome is empty has not finished.
const (
	OutcomeSucceeded = "Succeeded"
	OutcomeFailed    = "Failed"
)

// Reasons batchlens gives special meaning to.
const (
	ReasonOOMKilled        = "OOMKilled"
	ReasonCrashLoopBackOff = "CrashLoopBackOff"
)

// MaxMessage bounds every free-text field (messages, event notes) in bytes.
// Longer text is cut at a rune boundary and marked with "…".
const MaxMessage = 4096

// CronJob is a schedule that creates runs. Key: (Cluster, Namespace, Name).
type CronJob struct {
	Cluster   string
	Namespace string
	Name      string
	UID       string
	Schedule  string
	Suspend   bool
	CreatedAt time.Time
	DeletedAt time.Time
}

// Run is one execution: a Kubernetes Job, with or without a CronJob.
// Key: (Cluster, UID).
type Run struct {
	Cluster     string
	Namespace   string
	UID         string
	Name        string
	CronJob     string // owning CronJob's name; "" for a Job created on its own
	CreatedAt   time.Time
	ScheduledAt time.Time // batch.kubernetes.io/cronjob-scheduled-timestamp
	StartedAt   time.Time
	FinishedAt  time.Time
	Outcome     string // "", OutcomeSucceeded or OutcomeFailed
	Reason      string // reason of the Failed condition (BackoffLimitExceeded, DeadlineExceeded, …)
	Message     string
	Succeeded   int32 // status.succeeded, highest seen
	Failed      int32 // status.failed, highest seen
	DeletedAt   time.Time
	// Inferred marks a run fact read from the Job controller's final event
	// (Completed, BackoffLimitExceeded, …) rather than from the Job: it
	// fills in the outcome of a run already known and never creates one.
	// A Job deleted by its TTL while batchlens could not watch leaves only
	// that event behind.
	Inferred bool
}

// Pod is one pod of a run (or a pod of a Job we watch). Key: (Cluster, UID).
type Pod struct {
	Cluster     string
	Namespace   string
	UID         string
	Name        string
	JobUID      string
	JobName     string
	CronJob     string
	Node        string
	CreatedAt   time.Time
	ScheduledAt time.Time
	StartedAt   time.Time // first container start
	// PendingUntil is when the pod left phase Pending: its first container
	// start, its finish, or its deletion while still Pending.
	PendingUntil time.Time
	FinishedAt   time.Time // when it reached Succeeded or Failed
	Phase        string
	Reason       string // status.reason: Evicted, DeadlineExceeded, …
	Message      string
	DeletedAt    time.Time
}

// Termination is one ended container attempt.
// Key: (Cluster, PodUID, Container, Attempt); Attempt is the restart index
// (0 for the first run of the container).
type Termination struct {
	Cluster    string
	PodUID     string
	Container  string
	Attempt    int32
	Reason     string // OOMKilled, Error, Completed, ContainerCannotRun, …
	ExitCode   int32
	Signal     int32
	Message    string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Restart is one restart of a container: restart number Index (1-based) of
// the container began at At. Key: (Cluster, PodUID, Container, Index).
type Restart struct {
	Cluster   string
	PodUID    string
	Container string
	Index     int32
	At        time.Time
}

// Waiting is one episode of a container waiting for a reason
// (CrashLoopBackOff, ImagePullBackOff, …) before attempt Attempt.
// Key: (Cluster, PodUID, Container, Attempt, Reason).
type Waiting struct {
	Cluster   string
	PodUID    string
	Container string
	Attempt   int32
	Reason    string
	Message   string
	FirstSeen time.Time
	LastSeen  time.Time
}

// Event is a Kubernetes Event, deduplicated by UID; Count and LastSeen
// follow its series. Key: (Cluster, UID).
type Event struct {
	Cluster      string
	UID          string
	Namespace    string
	InvolvedKind string
	InvolvedName string
	InvolvedUID  string
	Type         string // Normal or Warning
	Reason       string
	Message      string
	Source       string
	Count        int32
	FirstSeen    time.Time
	LastSeen     time.Time
}

// Container is what one container of a pod may use, from the pod's spec:
// its requests and limits (zero when not set). Key: (Cluster, PodUID, Name).
type Container struct {
	Cluster        string
	PodUID         string
	Name           string
	CPURequest     int64 // millicores
	CPULimit       int64 // millicores
	MemoryRequest  int64 // bytes
	MemoryLimit    int64 // bytes
	StorageRequest int64 // ephemeral storage, bytes
	StorageLimit   int64 // ephemeral storage, bytes
}

// Sample is what one look at a pod's kubelet saw of its resource usage:
// gauges at At, and what its cumulative counters grew by over the Window
// before At (the time since the previous look, or since the container
// started for the first look). Key: (Cluster, PodUID, At).
//
// Namespace, CronJob and RunUID attribute the usage; an empty CronJob is
// taken from the pod's run when the store knows it.
type Sample struct {
	Cluster   string
	Namespace string
	PodUID    string
	Pod       string // the pod's name
	RunUID    string // the owning Job's UID, "" for a pod without one
	CronJob   string
	At        time.Time
	Window    time.Duration

	CPUNanos     int64 // core-nanoseconds used in the window
	CPUNanoCores int64 // usage at At, in billionths of a core
	MemoryBytes  int64 // working set at At, summed over containers
	RSSBytes     int64 // resident set at At, summed over containers
	// MemoryRatio is the largest working set ÷ memory limit among the
	// pod's containers that have a limit; 0 when none has one.
	MemoryRatio  float64
	StorageBytes int64 // ephemeral storage used at At
	DiskRead     int64 // bytes read from disk in the window
	DiskWrite    int64 // bytes written to disk in the window
	NetRx        int64 // bytes received in the window
	NetTx        int64 // bytes sent in the window
	NetRxErrors  int64 // receive errors in the window
	NetTxErrors  int64 // transmit errors in the window
}

// Facts is what the ledger derives from one object change, and what the
// store writes in one transaction. Writing the same Facts again is a no-op.
type Facts struct {
	CronJobs     []CronJob
	Runs         []Run
	Pods         []Pod
	Terminations []Termination
	Restarts     []Restart
	Waits        []Waiting
	Events       []Event
	Containers   []Container
	Samples      []Sample
}

// Empty reports whether f holds no fact.
func (f *Facts) Empty() bool {
	return len(f.CronJobs)+len(f.Runs)+len(f.Pods)+len(f.Terminations)+
		len(f.Restarts)+len(f.Waits)+len(f.Events)+len(f.Containers)+len(f.Samples) == 0
}

// Add appends all of g's facts to f.
func (f *Facts) Add(g Facts) {
	f.CronJobs = append(f.CronJobs, g.CronJobs...)
	f.Runs = append(f.Runs, g.Runs...)
	f.Pods = append(f.Pods, g.Pods...)
	f.Terminations = append(f.Terminations, g.Terminations...)
	f.Restarts = append(f.Restarts, g.Restarts...)
	f.Waits = append(f.Waits, g.Waits...)
	f.Events = append(f.Events, g.Events...)
	f.Containers = append(f.Containers, g.Containers...)
	f.Samples = append(f.Samples, g.Samples...)
}
