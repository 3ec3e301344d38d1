package sim

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// monday is a Monday midnight: the banking-hours CronJob does not run in
// the first hours, so tests see the rest of the fleet on its own.
var monday = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

func newDefault(seed int64) *Sim {
	return New(Config{Cluster: "test", Fleet: DefaultFleet(), Seed: seed, Start: monday})
}

// simulate runs the default fleet for d and returns its ops.
func simulate(t testing.TB, seed int64, d time.Duration) (*Sim, []Op) {
	t.Helper()
	s := newDefault(seed)
	return s, s.Advance(monday.Add(d))
}

func meta(o runtime.Object) metav1.Object { return o.(metav1.Object) }

func kind(o runtime.Object) string {
	switch o.(type) {
	case *batchv1.CronJob:
		return "CronJob"
	case *batchv1.Job:
		return "Job"
	case *corev1.Pod:
		return "Pod"
	case *corev1.Event:
		return "Event"
	}
	return fmt.Sprintf("%T", o)
}

func TestDeterminism(t *testing.T) {
	const d = 8 * time.Hour
	_, want := simulate(t, 7, d)

	t.Run("same seed, same ops", func(t *testing.T) {
		_, got := simulate(t, 7, d)
		if !reflect.DeepEqual(got, want) {
			t.Fatal("two runs with the same seed differ")
		}
	})
	t.Run("chunking does not matter", func(t *testing.T) {
		s := newDefault(7)
		var got []Op
		for at := monday; at.Before(monday.Add(d)); {
			at = at.Add(time.Duration(1+len(got)%17) * time.Minute)
			if end := monday.Add(d); at.After(end) {
				at = end
			}
			got = append(got, s.Advance(at)...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("advancing in steps gives %d ops, in one go %d, or different ones", len(got), len(want))
		}
	})
	t.Run("another seed, other ops", func(t *testing.T) {
		_, got := simulate(t, 8, d)
		if reflect.DeepEqual(got, want) {
			t.Fatal("seeds 7 and 8 give the same ops")
		}
	})
}

func TestAdvanceWindows(t *testing.T) {
	s := newDefault(1)
	prev := monday.Add(-time.Nanosecond)
	for _, step := range []time.Duration{0, time.Second, 90 * time.Second, 59 * time.Minute, 1500 * time.Millisecond, 3 * time.Hour} {
		to := prev.Add(step)
		if step == 0 {
			to = monday
		}
		ops := s.Advance(to)
		for i, op := range ops {
			if !op.At.After(prev) || op.At.After(to) {
				t.Fatalf("Advance(%v): op %d at %v, want in (%v, %v]", to, i, op.At, prev, to)
			}
			if i > 0 && op.At.Before(ops[i-1].At) {
				t.Fatalf("Advance(%v): op %d at %v before op %d at %v", to, i, op.At, i-1, ops[i-1].At)
			}
			if op.At.Nanosecond() != 0 || op.At.Location() != time.UTC {
				t.Fatalf("op at %v: want whole seconds in UTC", op.At)
			}
		}
		prev = to
	}
	if ops := s.Advance(monday); len(ops) != 0 {
		t.Fatalf("Advance to the past returned %d ops", len(ops))
	}
}

func TestFirstAdvanceCreatesTheCronJobs(t *testing.T) {
	s := newDefault(1)
	ops := s.Advance(monday)
	cronJobs := 0
	for _, sp := range DefaultFleet() {
		if sp.Schedule != "" {
			cronJobs++
		}
	}
	if len(ops) != cronJobs {
		t.Fatalf("Advance(start) returned %d ops, want the %d CronJobs", len(ops), cronJobs)
	}
	for _, op := range ops {
		if cj, ok := op.Object.(*batchv1.CronJob); !ok || op.Verb != Create || !op.At.Equal(monday) {
			t.Fatalf("op %v %T at %v, want CronJob Create at start", op.Verb, op.Object, op.At)
		} else if cj.CreationTimestamp.Time != monday {
			t.Fatalf("CronJob %s created %v, want %v", cj.Name, cj.CreationTimestamp, monday)
		}
	}
}

// TestLifecycles checks every object's history: created first, never
// touched after deletion, resourceVersions rising, owners existing.
func TestLifecycles(t *testing.T) {
	_, ops := simulate(t, 3, 30*time.Hour)
	type life struct {
		kind    string
		created time.Time
		deleted bool
		phase   int
	}
	lives := map[types.UID]*life{}
	var lastRV uint64
	seen := map[runtime.Object]bool{}
	for i, op := range ops {
		m := meta(op.Object)
		uid := m.GetUID()
		where := fmt.Sprintf("op %d (%v %s %s/%s at %v)", i, op.Verb, kind(op.Object), m.GetNamespace(), m.GetName(), op.At)
		if seen[op.Object] {
			t.Fatalf("%s: object shared with an earlier op", where)
		}
		seen[op.Object] = true
		rv, err := strconv.ParseUint(m.GetResourceVersion(), 10, 64)
		if err != nil || rv <= lastRV {
			t.Fatalf("%s: resourceVersion %q after %d", where, m.GetResourceVersion(), lastRV)
		}
		lastRV = rv
		l := lives[uid]
		switch {
		case op.Verb == Create && l != nil:
			t.Fatalf("%s: created twice", where)
		case op.Verb == Create:
			if !m.GetCreationTimestamp().Time.Equal(op.At) {
				t.Fatalf("%s: creationTimestamp %v", where, m.GetCreationTimestamp())
			}
			l = &life{kind: kind(op.Object), created: op.At}
			lives[uid] = l
		case l == nil:
			t.Fatalf("%s: %v before Create", where, op.Verb)
		case l.deleted:
			t.Fatalf("%s: %v after Delete", where, op.Verb)
		case op.Verb == Delete:
			l.deleted = true
		}
		for _, ref := range m.GetOwnerReferences() {
			owner := lives[ref.UID]
			if owner == nil || owner.kind != ref.Kind || ref.Controller == nil || !*ref.Controller {
				t.Fatalf("%s: owner %s %s (%s) not an earlier object, or not controller", where, ref.Kind, ref.Name, ref.UID)
			}
		}
		switch o := op.Object.(type) {
		case *corev1.Pod:
			p := phaseRank(o.Status.Phase)
			if p < l.phase {
				t.Fatalf("%s: phase back to %s", where, o.Status.Phase)
			}
			l.phase = p
		case *corev1.Event:
			if involved := lives[o.InvolvedObject.UID]; involved == nil || involved.kind != o.InvolvedObject.Kind {
				t.Fatalf("%s: about %s %s, not an earlier object", where, o.InvolvedObject.Kind, o.InvolvedObject.Name)
			}
		}
	}
}

func phaseRank(p corev1.PodPhase) int {
	switch p {
	case corev1.PodRunning:
		return 1
	case corev1.PodSucceeded, corev1.PodFailed:
		return 2
	}
	return 0
}

// TestNoMutation checks that objects already returned never change.
func TestNoMutation(t *testing.T) {
	s := newDefault(5)
	ops := s.Advance(monday.Add(3 * time.Hour))
	copies := make([]runtime.Object, len(ops))
	for i, op := range ops {
		copies[i] = op.Object.DeepCopyObject()
	}
	s.Advance(monday.Add(30 * time.Hour))
	for i, op := range ops {
		if !reflect.DeepEqual(op.Object, copies[i]) {
			m := meta(op.Object)
			t.Fatalf("op %d (%v %s %s) changed after it was returned", i, op.Verb, kind(op.Object), m.GetName())
		}
	}
}

// TestShapes checks each kind against what the real control plane writes.
func TestShapes(t *testing.T) {
	_, ops := simulate(t, 11, 30*time.Hour)
	jobs := map[types.UID]*batchv1.Job{}
	cronJobs := map[types.UID]*batchv1.CronJob{}
	events := map[types.UID]*corev1.Event{}
	for i, op := range ops {
		m := meta(op.Object)
		where := fmt.Sprintf("op %d (%v %s %s/%s at %v)", i, op.Verb, kind(op.Object), m.GetNamespace(), m.GetName(), op.At)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("%s: %s", where, fmt.Sprintf(format, args...))
		}
		switch o := op.Object.(type) {
		case *batchv1.CronJob:
			cronJobs[o.UID] = o
			for _, a := range o.Status.Active {
				if jobs[a.UID] == nil || a.Kind != "Job" || a.APIVersion != "batch/v1" {
					fail("active %s not a known Job", a.Name)
				}
			}
		case *batchv1.Job:
			jobs[o.UID] = o
			checkJob(o, cronJobs, fail)
		case *corev1.Pod:
			job := jobs[o.OwnerReferences[0].UID]
			checkPod(o, job, fail)
		case *corev1.Event:
			if prev := events[o.UID]; prev != nil {
				if prev.Name != o.Name || o.Count < prev.Count || seenAt(o).Before(seenAt(prev)) {
					fail("event went back: count %d→%d, name %s→%s", prev.Count, o.Count, prev.Name, o.Name)
				}
			} else if op.Verb != Create {
				fail("event update before create")
			}
			events[o.UID] = o
			checkEvent(o, fail)
		}
	}
}

func checkJob(j *batchv1.Job, cronJobs map[types.UID]*batchv1.CronJob, fail func(string, ...any)) {
	uid := string(j.UID)
	for k, want := range map[string]string{
		batchv1.ControllerUidLabel: uid, batchv1.JobNameLabel: j.Name, "controller-uid": uid, "job-name": j.Name,
	} {
		if j.Labels[k] != want || j.Spec.Template.Labels[k] != want {
			fail("label %s = %q / %q, want %q", k, j.Labels[k], j.Spec.Template.Labels[k], want)
		}
	}
	if j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != uid {
		fail("selector %v", j.Spec.Selector)
	}
	if len(j.OwnerReferences) == 1 {
		cj := cronJobs[j.OwnerReferences[0].UID]
		ts, err := time.Parse(time.RFC3339, j.Annotations[batchv1.CronJobScheduledTimestampAnnotation])
		if cj == nil || err != nil || j.Name != fmt.Sprintf("%s-%d", cj.Name, ts.Unix()/60) ||
			ts.After(j.CreationTimestamp.Time) || j.CreationTimestamp.Sub(ts) > time.Second {
			fail("scheduled %q for CronJob %v", j.Annotations[batchv1.CronJobScheduledTimestampAnnotation], cj)
		}
	} else if j.GenerateName == "" || !strings.HasPrefix(j.Name, j.GenerateName) {
		fail("plain Job without generateName")
	}
	st := j.Status
	if st.StartTime == nil {
		if st.Active != 0 || len(st.Conditions) != 0 {
			fail("status without startTime: %+v", st)
		}
		return
	}
	if st.Ready == nil || st.Terminating == nil || st.UncountedTerminatedPods == nil || *st.Ready > st.Active {
		fail("counts: %+v", st)
	}
	var types []string
	for _, c := range st.Conditions {
		types = append(types, string(c.Type)+"/"+c.Reason)
		if c.Status != corev1.ConditionTrue || c.LastTransitionTime.IsZero() || c.Message == "" {
			fail("condition %+v", c)
		}
	}
	switch got := strings.Join(types, " "); got {
	case "":
	case "SuccessCriteriaMet/CompletionsReached Complete/CompletionsReached":
		if st.CompletionTime == nil || !st.CompletionTime.Equal(&st.Conditions[1].LastTransitionTime) || st.Succeeded != 1 || st.Active != 0 {
			fail("complete Job: %+v", st)
		}
	case "FailureTarget/BackoffLimitExceeded", "FailureTarget/DeadlineExceeded":
		if st.CompletionTime != nil || *st.Terminating == 0 {
			fail("failing Job: %+v", st)
		}
	case "FailureTarget/BackoffLimitExceeded Failed/BackoffLimitExceeded", "FailureTarget/DeadlineExceeded Failed/DeadlineExceeded":
		if st.CompletionTime != nil || st.Failed == 0 || st.Active != 0 || *st.Terminating != 0 {
			fail("failed Job: %+v", st)
		}
	default:
		fail("conditions %s", got)
	}
}

func checkPod(p *corev1.Pod, job *batchv1.Job, fail func(string, ...any)) {
	if job == nil || len(p.OwnerReferences) != 1 || p.OwnerReferences[0].Kind != "Job" {
		fail("owner %v", p.OwnerReferences)
	}
	for k, v := range job.Spec.Template.Labels {
		if p.Labels[k] != v {
			fail("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	if p.GenerateName != job.Name+"-" || len(p.Name) != len(job.Name)+6 {
		fail("name %q for Job %q", p.Name, job.Name)
	}
	st := p.Status
	if p.Spec.NodeName == "" && (st.StartTime != nil || len(st.ContainerStatuses) != 0 || st.Phase != corev1.PodPending) {
		fail("kubelet status in phase %s without a node", st.Phase)
	}
	terminal := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	for _, c := range st.Conditions {
		if c.LastTransitionTime.IsZero() || c.LastTransitionTime.Nanosecond() != 0 {
			fail("condition %s without a whole-second transition", c.Type)
		}
	}
	if len(st.ContainerStatuses) == 0 {
		if st.Phase != corev1.PodPending {
			fail("phase %s without container statuses", st.Phase)
		}
		return
	}
	cs := st.ContainerStatuses[0]
	n := 0
	for _, s := range []bool{cs.State.Waiting != nil, cs.State.Running != nil, cs.State.Terminated != nil} {
		if s {
			n++
		}
	}
	if n != 1 || cs.Started == nil {
		fail("container state %+v", cs.State)
	}
	switch {
	case st.Phase == corev1.PodSucceeded:
		if tm := cs.State.Terminated; tm == nil || tm.ExitCode != 0 || tm.Reason != "Completed" ||
			podCondition(p, corev1.PodReady) != corev1.ConditionFalse {
			fail("succeeded pod: %+v", cs.State)
		}
	case st.Phase == corev1.PodFailed:
		if cs.State.Terminated == nil {
			fail("failed pod with container %+v", cs.State)
		}
	case cs.State.Running != nil:
		if !cs.Ready || !*cs.Started || cs.ContainerID == "" || cs.ImageID == "" || st.Phase != corev1.PodRunning || st.PodIP == "" {
			fail("running container: %+v in phase %s", cs, st.Phase)
		}
	case cs.State.Waiting != nil && cs.State.Waiting.Reason == reasonCrashLoopBackOff:
		if cs.LastTerminationState.Terminated == nil || st.Phase != corev1.PodRunning || cs.RestartCount == 0 {
			fail("crash-looping container: %+v", cs)
		}
	}
	if tm := cs.State.Terminated; tm != nil && tm.Reason != reasonStatusUnknown {
		if tm.StartedAt.IsZero() || tm.FinishedAt.Before(&tm.StartedAt) || tm.ContainerID != cs.ContainerID {
			fail("termination %+v", tm)
		}
	}
	if terminal && cs.State.Terminated.Reason == reasonStatusUnknown && cs.LastTerminationState.Terminated != nil {
		fail("a pod whose finish is ambiguous: unknown last state after a real termination")
	}
}

func podCondition(p *corev1.Pod, typ corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// seenAt is when an event was last seen: its series, else lastTimestamp,
// else eventTime.
func seenAt(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	}
	return e.EventTime.Time
}

func checkEvent(e *corev1.Event, fail func(string, ...any)) {
	if !strings.HasPrefix(e.Name, e.InvolvedObject.Name+".") || e.Namespace != e.InvolvedObject.Namespace ||
		(e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning) || e.Reason == "" || e.Message == "" {
		fail("event %+v", e)
	}
	if e.ReportingController == schedulerName {
		if e.EventTime.IsZero() || !e.FirstTimestamp.IsZero() || !e.LastTimestamp.IsZero() || e.Count != 0 ||
			e.Source.Component != "" || e.Action == "" || (e.Series != nil && e.Series.Count < 2) {
			fail("scheduler event %+v", e)
		}
		return
	}
	if !e.EventTime.IsZero() || e.Series != nil || e.Count < 1 || e.FirstTimestamp.IsZero() ||
		e.LastTimestamp.Before(&e.FirstTimestamp) || e.Source.Component == "" || e.ReportingController != e.Source.Component {
		fail("legacy event %+v", e)
	}
	if (e.Source.Component == "kubelet") != (e.Source.Host != "") {
		fail("source %+v", e.Source)
	}
}

func TestInvalidSpecs(t *testing.T) {
	good := DefaultFleet()[1]
	for _, tc := range []struct {
		name   string
		change func(*Spec)
	}{
		{"bad schedule", func(s *Spec) { s.Schedule = "every minute" }},
		{"no schedule, no Every", func(s *Spec) { s.Schedule = "" }},
		{"restart policy Always", func(s *Spec) { s.RestartPolicy = corev1.RestartPolicyAlways }},
		{"backoff limit 0", func(s *Spec) { s.BackoffLimit = 0 }},
		{"no behaviour", func(s *Spec) { s.Behavior = nil }},
		{"deadline outcome without deadline", func(s *Spec) { s.ActiveDeadline = 0 }},
		{"unknown outcome", func(s *Spec) { s.Behavior = Mix{numOutcomes: 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := good
			sp.Behavior = Mix{Succeed: 1, NeverScheduled: 1}
			tc.change(&sp)
			defer func() {
				if recover() == nil {
					t.Fatal("New did not panic")
				}
			}()
			New(Config{Fleet: []Spec{sp}, Start: monday})
		})
	}
}

// TestNoSharing checks that no two ops' objects share a pointer, map or
// slice: each is a deep copy, safe to keep or change on its own.
func TestNoSharing(t *testing.T) {
	_, ops := simulate(t, 6, 8*time.Hour)
	owner := map[uintptr]int{}
	skip := map[reflect.Type]bool{reflect.TypeFor[time.Time](): true, reflect.TypeFor[resource.Quantity](): true}
	var visit func(i int, path string, v reflect.Value)
	claim := func(i int, path string, addr uintptr) bool {
		if j, ok := owner[addr]; ok {
			if j != i {
				t.Fatalf("op %d and op %d share %s", j, i, path)
			}
			return false
		}
		owner[addr] = i
		return true
	}
	visit = func(i int, path string, v reflect.Value) {
		if skip[v.Type()] {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() && claim(i, path, v.Pointer()) {
				visit(i, path, v.Elem())
			}
		case reflect.Map:
			if !v.IsNil() && claim(i, path, v.Pointer()) {
				for it := v.MapRange(); it.Next(); {
					visit(i, path+"[]", it.Value())
				}
			}
		case reflect.Slice:
			if v.Cap() > 0 && claim(i, path, v.Pointer()) {
				for k := 0; k < v.Len(); k++ {
					visit(i, path+"[]", v.Index(k))
				}
			}
		case reflect.Struct:
			for k := 0; k < v.NumField(); k++ {
				if v.Type().Field(k).IsExported() {
					visit(i, path+"."+v.Type().Field(k).Name, v.Field(k))
				}
			}
		case reflect.Interface:
			if !v.IsNil() {
				visit(i, path, v.Elem())
			}
		}
	}
	for i, op := range ops {
		visit(i, kind(op.Object), reflect.ValueOf(op.Object))
	}
}

// TestEventsExpire checks that Events are deleted an hour after their last
// write, as kube-apiserver's --event-ttl does, so the set of live objects
// stays bounded however long the fleet runs.
func TestEventsExpire(t *testing.T) {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	s := New(Config{Cluster: "c", Fleet: DefaultFleet(), Seed: 3, Start: start})
	lastWrite := map[string]time.Time{}
	deleted := 0
	for _, op := range s.Advance(start.Add(6 * time.Hour)) {
		e, ok := op.Object.(*corev1.Event)
		if !ok {
			continue
		}
		uid := string(e.UID)
		if op.Verb == Delete {
			if got := op.At.Sub(lastWrite[uid]); got != eventTTL {
				t.Fatalf("event %s deleted %s after its last write, want %s", e.Name, got, eventTTL)
			}
			delete(lastWrite, uid)
			deleted++
			continue
		}
		lastWrite[uid] = op.At
	}
	if deleted == 0 {
		t.Fatal("no event expired in 6 hours")
	}
	for uid, at := range lastWrite {
		if at.Before(start.Add(5 * time.Hour)) {
			t.Errorf("event %s last written at %s still exists at the end", uid, at)
		}
	}
}
