//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batchlens/batchlens/internal/sim"
)

// A shape is, per kind of object ("Job Complete", "Event job-controller BackoffLimitExceeded"),
// the set of JSON field paths its objects carry (list items as []). Comparing the shapes of the
// real control plane's objects with the simulator's shows where the simulator's objects are not
// shaped like real ones.
type shape map[string]map[string]bool

func (s shape) add(key string, obj any) {
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	if s[key] == nil {
		s[key] = map[string]bool{}
	}
	walk(v, "", s[key])
}

func walk(v any, path string, out map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			walk(e, path+"."+k, out)
		}
	case []any:
		for _, e := range t {
			walk(e, path+"[]", out)
		}
	case nil:
	default:
		out[path] = true
	}
}

// jobKey and eventKey name the kind of an object; sameKind objects should have the same paths.
func jobKey(j *batchv1.Job) string {
	var types []string
	for _, c := range j.Status.Conditions {
		types = append(types, string(c.Type))
	}
	owner := "plain"
	if len(j.OwnerReferences) > 0 {
		owner = j.OwnerReferences[0].Kind
	}
	return "Job (" + owner + ") " + strings.Join(types, ",")
}

func eventKey(e *corev1.Event) string {
	src := e.Source.Component
	if src == "" {
		src = e.ReportingController
	}
	return "Event " + src + " " + e.InvolvedObject.Kind + " " + e.Reason
}

// jobShape is the part of a Job the ledger reads, and the metadata it keeps (see internal/kube's
// transform); eventShape is a whole Event but its object metadata.
func jobShape(j *batchv1.Job) any {
	return map[string]any{"status": j.Status, "ownerReferences": j.OwnerReferences,
		"annotations": slices.Sorted(maps.Keys(j.Annotations)), "finalizers": j.Finalizers}
}

func eventShape(e *corev1.Event) any {
	c := e.DeepCopy()
	c.ObjectMeta = metav1.ObjectMeta{}
	return c
}

// simShape runs the simulated fleet for hours and takes the shape of its final Jobs and its Events.
func simShape(hours int) shape {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	s := sim.New(sim.Config{Cluster: "sim", Fleet: sim.DefaultFleet(), Seed: 7, Start: start})
	jobs, events := map[string]*batchv1.Job{}, map[string]*corev1.Event{}
	for _, op := range s.Advance(start.Add(time.Duration(hours) * time.Hour)) {
		switch o := op.Object.(type) {
		case *batchv1.Job:
			jobs[string(o.UID)] = o
		case *corev1.Event:
			events[string(o.UID)] = o
		}
	}
	out := shape{}
	for _, j := range jobs {
		out.add(jobKey(j), jobShape(j))
	}
	for _, e := range events {
		out.add(eventKey(e), eventShape(e))
	}
	return out
}

// diffShapes reports, for the kinds both have, the paths only one has. A path the real objects
// have and the simulator's lack is a failure when the ledger reads it (ledgerReads), since then
// the simulator does not exercise what the ledger meets in a cluster; the rest are notes.
func diffShapes(real, simulated shape, ledgerReads func(path string) bool) (failures, notes []string) {
	var only []string
	for _, k := range slices.Sorted(maps.Keys(real)) {
		sp, ok := simulated[k]
		if !ok {
			only = append(only, k)
			continue
		}
		for _, p := range slices.Sorted(maps.Keys(real[k])) {
			if !sp[p] {
				msg := fmt.Sprintf("%s: the API server's objects have %s, the simulator's do not", k, p)
				if ledgerReads(p) {
					failures = append(failures, msg)
				} else {
					notes = append(notes, msg)
				}
			}
		}
		// A path only the simulator's objects have may just be one the scenario's few
		// minutes did not reach (an event series, a retried pod of a Job that then
		// succeeded): worth a note, not a failure.
		for _, p := range slices.Sorted(maps.Keys(sp)) {
			if !real[k][p] {
				notes = append(notes, fmt.Sprintf("%s: the simulator's objects have %s, the API server's do not", k, p))
			}
		}
	}
	if len(only) > 0 {
		sort.Strings(only)
		notes = append(notes, "kinds the scenario made that the simulated fleet does not: "+strings.Join(only, "; "))
	}
	return failures, notes
}

// ledgerPaths are the fields internal/ledger reads from Jobs and Events.
func ledgerPaths(p string) bool {
	for _, prefix := range []string{".status.conditions[].type", ".status.conditions[].status",
		".status.conditions[].lastTransitionTime", ".status.conditions[].reason", ".status.conditions[].message",
		".status.startTime", ".status.completionTime", ".status.succeeded", ".status.failed",
		".ownerReferences[].kind", ".ownerReferences[].name", ".ownerReferences[].controller", ".annotations[]",
		".involvedObject.", ".type", ".reason", ".message", ".source.component", ".reportingComponent",
		".count", ".firstTimestamp", ".lastTimestamp", ".eventTime", ".series."} {
		if p == prefix || strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
