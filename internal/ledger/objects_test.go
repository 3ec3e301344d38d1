package ledger

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Real-shaped objects for the tests, as the API server returns them.

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func at(sec int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(sec) * time.Second)) }
func atp(sec int) *metav1.Time {
	t := at(sec)
	return &t
}
func sec(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func ptr[T any](v T) *T { return &v }

func job(name string, mutate ...func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "ml", UID: types.UID("job-" + name), ResourceVersion: "1",
			CreationTimestamp: at(0),
			Annotations:       map[string]string{ScheduledAnnotation: t0.Format(time.RFC3339)},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "CronJob", Name: "train", UID: "cj-train",
				Controller: ptr(true), BlockOwnerDeletion: ptr(true),
			}},
		},
		Spec: batchv1.JobSpec{BackoffLimit: ptr[int32](2)},
	}
	for _, m := range mutate {
		m(j)
	}
	return j
}

func pod(name string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "ml", UID: types.UID("pod-" + name), ResourceVersion: "1",
			CreationTimestamp: at(0),
			Labels:            map[string]string{"batch.kubernetes.io/job-name": "train-1", "job-name": "train-1"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: "train-1", UID: "job-train-1",
				Controller: ptr(true), BlockOwnerDeletion: ptr(true),
			}},
		},
		Spec:   corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "main", Image: "model:1"}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func scheduled(s int) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = "node-1"
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at(s)})
	}
}

func phase(ph corev1.PodPhase) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.Phase = ph }
}

func status(cs corev1.ContainerStatus) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		cs.Name = "main"
		cs.Image = "model:1"
		p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	}
}

func running(s int) corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: at(s)}}
}

func terminated(reason string, code int32, from, to int) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: reason, ExitCode: code, StartedAt: at(from), FinishedAt: at(to),
		ContainerID: "containerd://" + reason}}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off 10s restarting failed container"}}
}

func metav1MicroTime(s int) metav1.MicroTime { return metav1.NewMicroTime(sec(s)) }
