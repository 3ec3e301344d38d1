package kube

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batchlens/batchlens/internal/ledger"
)

// trim is the informers' transform: it drops what the ledger never reads
// (managed fields, annotations but the scheduled timestamp, pod spec but the
// node and containers' names) so the caches stay small. It runs before an
// object enters the cache and may change it in place; anything else (a
// tombstone) passes unchanged.
func trim(obj any) (any, error) {
	switch o := obj.(type) {
	case *batchv1.CronJob:
		trimMeta(&o.ObjectMeta)
		o.Spec.JobTemplate = batchv1.JobTemplateSpec{}
	case *batchv1.Job:
		trimMeta(&o.ObjectMeta)
		o.Spec.Template = corev1.PodTemplateSpec{}
	case *corev1.Pod:
		trimMeta(&o.ObjectMeta)
		spec := corev1.PodSpec{NodeName: o.Spec.NodeName, RestartPolicy: o.Spec.RestartPolicy}
		for _, c := range o.Spec.Containers {
			spec.Containers = append(spec.Containers, corev1.Container{Name: c.Name, Resources: c.Resources})
		}
		o.Spec = spec
	case *corev1.Event:
		trimMeta(&o.ObjectMeta)
	}
	return obj, nil
}

func trimMeta(m *metav1.ObjectMeta) {
	m.ManagedFields = nil
	m.Labels = nil
	if v, ok := m.Annotations[ledger.ScheduledAnnotation]; ok {
		m.Annotations = map[string]string{ledger.ScheduledAnnotation: v}
	} else {
		m.Annotations = nil
	}
}
