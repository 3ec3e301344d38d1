package scenario

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Work is the outcome of the usage runs: the container runs for WorkRun with its CronJob's
// usage profile (UsageOf), then completes.
const Work Outcome = "work"

// WorkRun is how long a Work container runs (the e2e-work stage's delay).
const WorkRun = 24 * time.Second

// Usage is the resource profile of a container, what its node's kubelet reports (e2e/kubelet):
// it loads for Idle, computes for Work (CPU at NanoCores; network, error and disk counters
// growing at constant rates to their totals), then idles until it ends (CPU 0, counters flat).
// Its working set is Memory and its ephemeral storage Storage from the start. The counters are
// flat at both ends so that a sampler polling at least every Idle sees them from zero and at
// their totals: those sums are exact; only the integral of the working set over the sampled
// time depends on when the samples fell.
type Usage struct {
	Idle, Work                              time.Duration
	NanoCores                               uint64
	Memory, Storage                         uint64
	Rx, Tx, RxErrors, TxErrors, Read, Write uint64
}

// Stats is what a container with a Usage shows after it has run for some time.
type Stats struct {
	NanoCores, CPUNanos                     uint64
	Memory, Storage                         uint64
	Rx, Tx, RxErrors, TxErrors, Read, Write uint64
}

// At is the container's stats after it has run for d.
func (u Usage) At(d time.Duration) Stats {
	w := min(max(d-u.Idle, 0), u.Work) // time computed so far
	part := func(total uint64) uint64 {
		if u.Work <= 0 {
			return 0
		}
		return total * uint64(w.Milliseconds()) / uint64(u.Work.Milliseconds())
	}
	s := Stats{CPUNanos: u.NanoCores * uint64(w.Milliseconds()) / 1000, Memory: u.Memory, Storage: u.Storage,
		Rx: part(u.Rx), Tx: part(u.Tx), RxErrors: part(u.RxErrors), TxErrors: part(u.TxErrors),
		Read: part(u.Read), Write: part(u.Write)}
	if d >= u.Idle && d < u.Idle+u.Work {
		s.NanoCores = u.NanoCores
	}
	return s
}

// Totals is what the container has used once it has computed for all of Work.
func (u Usage) Totals() Stats { return u.At(u.Idle + u.Work) }

// ProfileLabel names a Work pod's usage profile (a key of usageProfiles).
const ProfileLabel = "e2e.batchlens.dev/profile"

const mi = 1 << 20

// usageProfiles are the profiles of the usage CronJobs' pods. Their memory limit is
// workLimit: "steady" peaks at 37.5% of it, "risky" at 95% (over the 90% of OOM risk).
var usageProfiles = map[string]Usage{
	"steady": {Idle: 4 * time.Second, Work: 10 * time.Second, NanoCores: 750_000_000, Memory: 96 * mi, Storage: 12 * mi,
		Rx: 30_000_000, Tx: 5_000_000, RxErrors: 3, TxErrors: 1, Read: 8_000_000, Write: 2_000_000},
	"risky": {Idle: 4 * time.Second, Work: 10 * time.Second, NanoCores: 1_500_000_000, Memory: 256 * mi * 95 / 100, Storage: 30 * mi,
		Rx: 12_000_000, Tx: 40_000_000, Read: 50_000_000, Write: 20_000_000},
}

// shortUsage is the profile of every other pod of the scenario: they run about a second.
var shortUsage = Usage{Work: 2 * time.Second, NanoCores: 50_000_000, Memory: 32 * mi, Storage: mi,
	Rx: 100_000, Tx: 20_000, Read: 200_000, Write: 50_000}

// UsageOf is the usage profile of a pod's containers: its profile label's for Work pods, a
// small one for the rest.
func UsageOf(p *corev1.Pod) Usage {
	if u, ok := usageProfiles[p.Labels[ProfileLabel]]; ok && p.Labels[OutcomeLabel] == string(Work) {
		return u
	}
	return shortUsage
}

// The resources of a Work pod's container.
var (
	workCPURequest, workCPULimit       = resource.MustParse("500m"), resource.MustParse("2")
	workMemoryRequest, workMemoryLimit = resource.MustParse("128Mi"), resource.MustParse("256Mi")
	workStorageLimit                   = resource.MustParse("1Gi")
)

// UsageCronJob is a CronJob whose runs StartUsage starts by hand, as `kubectl create job
// --from=cronjob/…` does.
type UsageCronJob struct {
	Namespace, Name, Profile string
	Runs                     int
}

// Usage is the CronJob's pods' usage profile.
func (c UsageCronJob) Usage() Usage { return usageProfiles[c.Profile] }

// Resources are a Work pod's CPU request and limit (cores) and memory request and limit and
// ephemeral storage limit (bytes).
func Resources() (cpuRequest, cpuLimit, memRequest, memLimit, storageLimit float64) {
	return workCPURequest.AsApproximateFloat64(), workCPULimit.AsApproximateFloat64(),
		workMemoryRequest.AsApproximateFloat64(), workMemoryLimit.AsApproximateFloat64(), workStorageLimit.AsApproximateFloat64()
}

// UsageCronJobs are the CronJobs of the usage runs: one per profile, in the first and last
// namespace.
func (s *Scenario) UsageCronJobs() []UsageCronJob {
	return []UsageCronJob{
		{Namespace: s.namespaces[0], Name: "usage-steady", Profile: "steady", Runs: 2},
		{Namespace: s.namespaces[len(s.namespaces)-1], Name: "usage-risky", Profile: "risky", Runs: 2},
	}
}

// StartUsage creates the usage CronJobs, suspended, and starts their runs at once by hand (Jobs
// owned by the CronJob), adding them to the truth. It returns the Jobs' names by namespace.
func (s *Scenario) StartUsage(ctx context.Context) (map[string][]string, error) {
	jobs := map[string][]string{}
	for _, u := range s.UsageCronJobs() {
		spec := jobSpec(Work, nil)
		spec.Template.Labels[ProfileLabel] = u.Profile
		c := &spec.Template.Spec.Containers[0]
		c.Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: workCPURequest, corev1.ResourceMemory: workMemoryRequest},
			Limits: corev1.ResourceList{corev1.ResourceCPU: workCPULimit, corev1.ResourceMemory: workMemoryLimit,
				corev1.ResourceEphemeralStorage: workStorageLimit},
		}
		cj, err := s.client.BatchV1().CronJobs(u.Namespace).Create(ctx, &batchv1.CronJob{
			ObjectMeta: metav1.ObjectMeta{Name: u.Name, Namespace: u.Namespace},
			Spec: batchv1.CronJobSpec{Schedule: "0 0 1 1 *", Suspend: ptr.To(true),
				JobTemplate: batchv1.JobTemplateSpec{Spec: spec}},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("create cronjob %s/%s: %w", u.Namespace, u.Name, err)
		}
		for i := range u.Runs {
			job := &batchv1.Job{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-manual-%d", u.Name, i), Namespace: u.Namespace,
					Annotations:     map[string]string{"cronjob.kubernetes.io/instantiate": "manual"},
					OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}},
				Spec: *cj.Spec.JobTemplate.Spec.DeepCopy(),
			}
			if _, err := s.client.BatchV1().Jobs(u.Namespace).Create(ctx, job, metav1.CreateOptions{}); err != nil {
				return nil, fmt.Errorf("create job %s/%s: %w", u.Namespace, job.Name, err)
			}
			s.truth.add(Key{u.Namespace, u.Name}, Work, 1)
			jobs[u.Namespace] = append(jobs[u.Namespace], job.Name)
		}
	}
	return jobs, nil
}

// WaitJobs waits until the Jobs (names by namespace) have finished.
func (s *Scenario) WaitJobs(ctx context.Context, jobs map[string][]string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for ns, names := range jobs {
		for _, name := range names {
			for {
				j, err := s.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return fmt.Errorf("get job %s/%s: %w", ns, name, err)
				}
				if finished(j) {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("job %s/%s not finished after %s", ns, name, timeout)
				}
				if err := Sleep(ctx, time.Second); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
