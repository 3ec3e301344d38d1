// Package scenario drives a real control plane (with kwok as the kubelet, see e2e/stages) to
// every outcome batchlens counts, and keeps the ground truth of what it asked for: how many
// runs it created, and what each run's outcome means for pods, OOM kills, restarts, crash loops
// and pending pods. The truth is worked out from the scenario's own records, never read back
// from the cluster.
package scenario

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// OutcomeLabel is the pod label the project's kwok stages select on.
const OutcomeLabel = "e2e.batchlens.dev/outcome"

// PoolLabel is the node label that the late and unschedulable outcomes select on.
const PoolLabel = "e2e.batchlens.dev/pool"

// Outcome is what a run is asked to do.
type Outcome string

// The outcomes. Expect gives what each one means for the widgets.
const (
	Success       Outcome = "success"       // one pod completes in under a second
	OOM           Outcome = "oom"           // OOMKilled (137), restartPolicy Never, backoffLimit 0
	Error         Outcome = "error"         // exit 1 twice: backoffLimit 1 brings a second pod
	CrashLoop     Outcome = "crashloop"     // OnFailure: restarts 1..3 with CrashLoopBackOff; backoffLimit 3 fails the run
	OOMRestart    Outcome = "oomrestart"    // OnFailure: OOMKilled once, restarted, then completes
	ImagePull     Outcome = "imagepull"     // ErrImagePull, ImagePullBackOff, then runs and completes
	Evicted       Outcome = "evicted"       // phase Failed, reason Evicted
	Deadline      Outcome = "deadline"      // runs past activeDeadlineSeconds: the Job controller fails the run and deletes the pod
	Unschedulable Outcome = "unschedulable" // a nodeSelector no node matches: Pending for good
	Late          Outcome = "late"          // Pending until a node of the late pool appears, then completes
)

// Outcomes lists every outcome, in the order plain Jobs cycle through them.
func Outcomes() []Outcome {
	return []Outcome{Success, OOM, Error, CrashLoop, OOMRestart, ImagePull, Evicted, Deadline, Success, Late, Unschedulable}
}

// Tally is a count of what a set of runs shows, in the terms of docs/widgets.md.
type Tally struct {
	Runs, RunsSucceeded, RunsFailed         int
	PodsSucceeded, PodsFailed, PodsOOM      int
	Restarts, PodsCrashLoop, PodsPendingEnd int
}

// Add adds o to t.
func (t *Tally) Add(o Tally) {
	t.Runs += o.Runs
	t.RunsSucceeded += o.RunsSucceeded
	t.RunsFailed += o.RunsFailed
	t.PodsSucceeded += o.PodsSucceeded
	t.PodsFailed += o.PodsFailed
	t.PodsOOM += o.PodsOOM
	t.Restarts += o.Restarts
	t.PodsCrashLoop += o.PodsCrashLoop
	t.PodsPendingEnd += o.PodsPendingEnd
}

// Expect is what one run of an outcome shows once it has settled. Pods deleted by the Job
// controller while running (crashloop, deadline) never reach a terminal phase under kwok.
func Expect(o Outcome) Tally {
	t := Tally{Runs: 1}
	switch o {
	case Success, ImagePull, Late, Work:
		t.RunsSucceeded, t.PodsSucceeded = 1, 1
	case OOM:
		t.RunsFailed, t.PodsFailed, t.PodsOOM = 1, 1, 1
	case Error:
		t.RunsFailed, t.PodsFailed = 1, 2
	case CrashLoop:
		t.RunsFailed, t.Restarts, t.PodsCrashLoop = 1, 3, 1
	case OOMRestart:
		t.RunsSucceeded, t.PodsSucceeded, t.PodsOOM, t.Restarts = 1, 1, 1, 1
	case Evicted:
		t.RunsFailed, t.PodsFailed = 1, 1
	case Deadline:
		t.RunsFailed = 1
	case Unschedulable:
		t.PodsPendingEnd = 1
	}
	return t
}

// Key names whose runs a Tally counts: a CronJob, or "" for plain Jobs.
type Key struct{ Namespace, CronJob string }

// Truth is the ground truth of a scenario so far.
type Truth struct {
	mu   sync.Mutex
	runs map[Key][]Outcome
}

// Tally sums the runs of the given namespaces (all when none is given).
func (t *Truth) Tally(namespaces ...string) Tally {
	t.mu.Lock()
	defer t.mu.Unlock()
	var sum Tally
	for k, os := range t.runs {
		if len(namespaces) > 0 && !slices.Contains(namespaces, k.Namespace) {
			continue
		}
		for _, o := range os {
			sum.Add(Expect(o))
		}
	}
	return sum
}

// CronJobRuns is the number of runs of every CronJob in the given namespaces (all when none
// is given), most first, ties by namespace then name: the order of the top_cronjobs widget.
func (t *Truth) CronJobRuns(namespaces ...string) []KeyCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []KeyCount
	for k, os := range t.runs {
		if k.CronJob == "" || (len(namespaces) > 0 && !slices.Contains(namespaces, k.Namespace)) {
			continue
		}
		out = append(out, KeyCount{k, len(os)})
	}
	slices.SortFunc(out, func(a, b KeyCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.CronJob, b.CronJob))
	})
	return out
}

// KeyCount is a CronJob and its number of runs.
type KeyCount struct {
	Key
	Count int
}

func (t *Truth) add(k Key, o Outcome, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runs == nil {
		t.runs = map[Key][]Outcome{}
	}
	for range n {
		t.runs[k] = append(t.runs[k], o)
	}
}

// Scenario creates the workload. Its methods are not safe for concurrent use; Truth is.
type Scenario struct {
	client     kubernetes.Interface
	namespaces []string
	log        *slog.Logger
	truth      Truth
	cronJobs   []cronJob
	jobs       int
}

type cronJob struct {
	namespace, name string
	outcome         Outcome
	created         time.Time
}

// New returns a scenario over the namespaces (which must exist).
func New(client kubernetes.Interface, namespaces []string, log *slog.Logger) *Scenario {
	return &Scenario{client: client, namespaces: namespaces, log: log}
}

// Truth is the scenario's ground truth. CronJob runs enter it when Suspend is called.
func (s *Scenario) Truth() *Truth { return &s.truth }

// CronJobOutcomes are the outcomes of the CronJobs StartCronJobs creates, one CronJob each.
var cronJobOutcomes = []Outcome{Success, Success, OOM, Error, CrashLoop, OOMRestart, Evicted, ImagePull}

// StartCronJobs creates CronJobs that run every minute, spread over the namespaces. Their runs
// are counted by Suspend, from the schedule.
func (s *Scenario) StartCronJobs(ctx context.Context) error {
	for i, o := range cronJobOutcomes {
		ns := s.namespaces[i%len(s.namespaces)]
		name := fmt.Sprintf("model-%s-%d", o, i)
		tmpl := jobSpec(o, ttlFor(i))
		cj := &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: batchv1.CronJobSpec{
				Schedule:                   "* * * * *",
				ConcurrencyPolicy:          batchv1.AllowConcurrent,
				SuccessfulJobsHistoryLimit: ptr.To[int32](2),
				FailedJobsHistoryLimit:     ptr.To[int32](1),
				JobTemplate:                batchv1.JobTemplateSpec{Spec: tmpl},
			},
		}
		got, err := s.client.BatchV1().CronJobs(ns).Create(ctx, cj, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create cronjob %s/%s: %w", ns, name, err)
		}
		s.cronJobs = append(s.cronJobs, cronJob{ns, name, o, got.CreationTimestamp.Time})
	}
	return nil
}

// SuspendCronJobs waits until the middle of a minute (so the CronJob controller has made the
// run of the minute that began), suspends every CronJob, and adds their runs to the truth: one
// for every minute boundary after the CronJob's creation up to now.
func (s *Scenario) SuspendCronJobs(ctx context.Context) error {
	if err := Sleep(ctx, untilMidMinute(time.Now())); err != nil {
		return err
	}
	now := time.Now()
	for _, cj := range s.cronJobs {
		patch := []byte(`{"spec":{"suspend":true}}`)
		err := transient(func() error {
			_, err := s.client.BatchV1().CronJobs(cj.namespace).Patch(ctx, cj.name, types.MergePatchType, patch, metav1.PatchOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("suspend cronjob %s/%s: %w", cj.namespace, cj.name, err)
		}
		runs := MinuteBoundaries(cj.created, now)
		s.truth.add(Key{cj.namespace, cj.name}, cj.outcome, runs)
		s.log.Info("cronjob suspended", "cronjob", cj.namespace+"/"+cj.name, "outcome", cj.outcome, "runs", runs)
	}
	s.cronJobs = nil
	return nil
}

// MinuteBoundaries is how many whole minutes begin in (from, to]: the schedule times of
// "* * * * *" a CronJob created at from has reached by to.
func MinuteBoundaries(from, to time.Time) int {
	first := from.Truncate(time.Minute).Add(time.Minute)
	if to.Before(first) {
		return 0
	}
	return int(to.Sub(first)/time.Minute) + 1
}

// untilMidMinute is how long until the clock is between 20 s and 40 s past a minute.
func untilMidMinute(now time.Time) time.Duration {
	sec := now.Sub(now.Truncate(time.Minute))
	switch {
	case sec < 20*time.Second:
		return 20*time.Second - sec
	case sec > 40*time.Second:
		return time.Minute - sec + 20*time.Second
	}
	return 0
}

// CreateJobs creates n plain Jobs, one every interval, cycling through Outcomes and the
// namespaces, and adds each to the truth once it is created.
func (s *Scenario) CreateJobs(ctx context.Context, n int, interval time.Duration) error {
	outcomes := Outcomes()
	for range n {
		i := s.jobs
		o := outcomes[i%len(outcomes)]
		ns := s.namespaces[(i/len(outcomes)+i)%len(s.namespaces)]
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("adhoc-%s-%d", o, i), Namespace: ns},
			Spec:       jobSpec(o, ttlFor(i)),
		}
		err := transient(func() error {
			_, err := s.client.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) { // an earlier try got through; its answer did not
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("create job %s/%s: %w", ns, job.Name, err)
		}
		s.truth.add(Key{ns, ""}, o, 1)
		s.jobs++
		if err := Sleep(ctx, interval); err != nil {
			return err
		}
	}
	return nil
}

// ttlFor spreads ttlSecondsAfterFinished over 0 (gone at once), 3 s and none (kept).
func ttlFor(i int) *int32 {
	switch i % 3 {
	case 0:
		return ptr.To[int32](0)
	case 1:
		return ptr.To[int32](3)
	}
	return nil
}

// jobSpec is a Job whose pod drives kwok (through the project's stages) to the outcome.
func jobSpec(o Outcome, ttl *int32) batchv1.JobSpec {
	spec := batchv1.JobSpec{
		BackoffLimit:            ptr.To[int32](0),
		TTLSecondsAfterFinished: ttl,
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{OutcomeLabel: string(o)}},
			Spec: corev1.PodSpec{
				RestartPolicy:                 corev1.RestartPolicyNever,
				TerminationGracePeriodSeconds: ptr.To[int64](0),
				NodeSelector:                  map[string]string{"type": "kwok"},
				Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists,
					Effect: corev1.TaintEffectNoSchedule}},
				Containers: []corev1.Container{{
					Name:  "model",
					Image: "registry.e2e.local/models/" + string(o) + ":1.0",
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
					},
				}},
			},
		},
	}
	switch o {
	case Error:
		spec.BackoffLimit = ptr.To[int32](1)
	case CrashLoop:
		spec.BackoffLimit = ptr.To[int32](3)
		spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	case OOMRestart:
		spec.BackoffLimit = ptr.To[int32](2)
		spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	case Deadline:
		spec.ActiveDeadlineSeconds = ptr.To[int64](4)
	case Unschedulable:
		spec.Template.Spec.NodeSelector = map[string]string{PoolLabel: "none"}
	case Late:
		spec.Template.Spec.NodeSelector = map[string]string{PoolLabel: "late"}
	}
	return spec
}

// Settle waits until every run in the scenario's namespaces has finished (or, for
// Unschedulable, has its pod Pending) and no pod is left terminating: the state the truth
// describes. It gives up after timeout.
func (s *Scenario) Settle(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		busy, err := s.busy(ctx)
		if err != nil {
			return err
		}
		if busy == "" {
			return nil
		}
		if busy != last {
			s.log.Info("settling", "waiting for", busy)
			last = busy
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("scenario not settled after %s: %s", timeout, busy)
		}
		if err := Sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// busy names something still in motion, or returns "".
func (s *Scenario) busy(ctx context.Context) (string, error) {
	for _, ns := range s.namespaces {
		cjs, err := s.client.BatchV1().CronJobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", fmt.Errorf("list cronjobs: %w", err)
		}
		for _, cj := range cjs.Items {
			if len(cj.Status.Active) > 0 {
				return "cronjob " + ns + "/" + cj.Name + " has active runs", nil
			}
		}
		jobs, err := s.client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", fmt.Errorf("list jobs: %w", err)
		}
		for _, j := range jobs.Items {
			if j.Spec.Template.Labels[OutcomeLabel] == string(Unschedulable) {
				continue
			}
			if !finished(&j) {
				return "job " + ns + "/" + j.Name + " to finish", nil
			}
			if j.Spec.TTLSecondsAfterFinished != nil {
				return "job " + ns + "/" + j.Name + " to be deleted by its TTL", nil
			}
		}
		pods, err := s.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", fmt.Errorf("list pods: %w", err)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil {
				return "pod " + ns + "/" + p.Name + " to be deleted", nil
			}
			if p.Labels[OutcomeLabel] != string(Unschedulable) && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				return "pod " + ns + "/" + p.Name + " (" + string(p.Status.Phase) + ") to finish", nil
			}
		}
	}
	return "", nil
}

// transient retries f for up to about a minute while the API server is unreachable or
// answers with a server error, as it does while it restarts.
func transient(f func() error) error {
	backoff := wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1, Jitter: 0.2, Steps: 120}
	return retry.OnError(backoff, func(err error) bool {
		return utilnet.IsConnectionRefused(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
			apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || apierrors.IsTooManyRequests(err) ||
			utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
	}, f)
}

func finished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// Sleep waits d (nothing when d ≤ 0), or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// String describes a tally for logs and failures.
func (t Tally) String() string {
	return "runs=" + strconv.Itoa(t.Runs) + " succeeded=" + strconv.Itoa(t.RunsSucceeded) + " failed=" + strconv.Itoa(t.RunsFailed) +
		" podsSucceeded=" + strconv.Itoa(t.PodsSucceeded) + " podsFailed=" + strconv.Itoa(t.PodsFailed) + " oom=" + strconv.Itoa(t.PodsOOM) +
		" restarts=" + strconv.Itoa(t.Restarts) + " crashloop=" + strconv.Itoa(t.PodsCrashLoop) + " pending=" + strconv.Itoa(t.PodsPendingEnd)
}
