package sim

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Event recording, as the two client-go recorders do it.
//
// Controllers and the kubelet use the legacy recorder (tools/record): each
// event has firstTimestamp, lastTimestamp and count. Its EventCorrelator
// counts a repeat on the same Event object (a patch: an Update op); folds
// the tenth and later distinct messages of one reason, each within ten
// minutes of the last, into one "(combined from similar events)" event; and
// drops what exceeds a token bucket per source, object and type (burst 25,
// then one per five minutes), though the dropped ones still count.
//
// The scheduler uses the events.k8s.io recorder (tools/events): eventTime
// and, from the second occurrence on, a series whose count and
// lastObservedTime are written on the second occurrence, every 30 minutes,
// and once more when the series ends (no occurrence for 6 minutes).

const (
	aggregateMaxEvents = 10
	aggregateInterval  = 10 * time.Minute
	spamBurst          = 25
	spamRefill         = 5 * time.Minute // one token per period
	// recorderMemory bounds what a recorder remembers of one object's
	// events, as client-go's LRU caches (4096 entries for all objects) do.
	recorderMemory = 64

	seriesFinish  = 6 * time.Minute
	seriesRefresh = 30 * time.Minute

	containerField   = "spec.containers{" + containerName + "}"
	schedulerName    = "default-scheduler"
	schedulerHost    = "default-scheduler-cp-1"
	combinedEvents   = "(combined from similar events): "
	eventTypeNormal  = corev1.EventTypeNormal
	eventTypeWarning = corev1.EventTypeWarning
)

// attr is what facts are filtered by: the namespace and the owning CronJob
// ("" for a Job of its own and its pods).
type attr struct {
	ns      string
	cronJob string
}

// recorder is the legacy recorder of one source about one object.
type recorder struct {
	src  corev1.EventSource
	ref  corev1.ObjectReference
	attr attr
	logs []eventLog
	aggs []aggRecord
	spam [2]tokenBucket // Normal, Warning
}

// eventLog is the correlator's memory of one Event object: its key (the
// aggregate key when combined, else type, reason, message and field path),
// count and name.
type eventLog struct {
	combined             bool
	typ, reason, msg, fp string
	count                int32
	first                time.Time
	name                 string
	obj                  *corev1.Event // last written version; nil while never written
	fact                 int           // index in the Truth's events, once written
}

// aggRecord is the aggregator's memory of the distinct messages of one
// type and reason.
type aggRecord struct {
	typ, reason string
	msgs        []string
	last        time.Time
}

// tokenBucket is the spam filter's rate limiter.
type tokenBucket struct {
	tokens float64
	last   time.Time
	used   bool
}

func (b *tokenBucket) take(now time.Time) bool {
	if !b.used {
		b.tokens, b.last, b.used = spamBurst, now, true
	}
	b.tokens = min(spamBurst, b.tokens+float64(now.Sub(b.last))/float64(spamRefill))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func newRecorder(component, host string, ref corev1.ObjectReference, a attr) recorder {
	return recorder{src: corev1.EventSource{Component: component, Host: host}, ref: ref, attr: a}
}

// record emits one occurrence of an event at s.now, if the spam filter lets it through.
func (rc *recorder) record(s *Sim, typ, reason, msg, fieldPath string) {
	now := s.now
	a := rc.agg(typ, reason)
	if now.Sub(a.last) > aggregateInterval {
		a.msgs = a.msgs[:0]
	}
	if !slices.Contains(a.msgs, msg) {
		a.msgs = append(a.msgs, msg)
	}
	a.last = now
	message, combined := msg, false
	if len(a.msgs) >= aggregateMaxEvents {
		a.msgs = slices.Delete(a.msgs, 0, 1)
		message, combined = combinedEvents+msg, true
	}
	l := rc.log(s, combined, typ, reason, msg, fieldPath)
	l.count++
	spam := &rc.spam[0]
	if typ == eventTypeWarning {
		spam = &rc.spam[1]
	}
	if !spam.take(now) {
		return
	}
	var ev *corev1.Event
	verb := Update
	if l.obj == nil {
		verb = Create
		ref := rc.ref
		ref.FieldPath = fieldPath
		ev = &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{
				Name:              l.name,
				Namespace:         rc.ref.Namespace,
				UID:               s.newUID(),
				CreationTimestamp: metav1.NewTime(now),
			},
			InvolvedObject:      ref,
			Reason:              reason,
			Type:                typ,
			Source:              rc.src,
			FirstTimestamp:      metav1.NewTime(l.first),
			ReportingController: rc.src.Component,
			ReportingInstance:   rc.src.Host,
		}
	} else {
		ev = l.obj.DeepCopy()
	}
	ev.ResourceVersion = s.nextRV()
	ev.Message = message
	ev.Count = l.count
	ev.LastTimestamp = metav1.NewTime(now)
	l.obj = ev
	uid := ev.UID
	s.emitEvent(verb, ev, func() {
		rc.logs = slices.DeleteFunc(rc.logs, func(l eventLog) bool { return l.obj != nil && l.obj.UID == uid })
	})
	if verb == Create {
		l.fact = s.truth.eventCreated(rc.attr, now)
	} else {
		s.truth.eventSeen(l.fact, now)
	}
}

func (rc *recorder) agg(typ, reason string) *aggRecord {
	for i := range rc.aggs {
		if rc.aggs[i].typ == typ && rc.aggs[i].reason == reason {
			return &rc.aggs[i]
		}
	}
	rc.aggs = append(rc.aggs, aggRecord{typ: typ, reason: reason})
	return &rc.aggs[len(rc.aggs)-1]
}

func (rc *recorder) log(s *Sim, combined bool, typ, reason, msg, fieldPath string) *eventLog {
	for i := range rc.logs {
		l := &rc.logs[i]
		if l.combined == combined && l.reason == reason && l.typ == typ &&
			(combined || l.fp == fieldPath && l.msg == msg) {
			return l
		}
	}
	if len(rc.logs) == recorderMemory { // forget the older half
		rc.logs = append(rc.logs[:0], rc.logs[recorderMemory/2:]...)
		clear(rc.logs[len(rc.logs):recorderMemory])
	}
	rc.logs = append(rc.logs, eventLog{
		combined: combined, typ: typ, reason: reason, msg: msg, fp: fieldPath,
		first: s.now, name: s.eventName(rc.ref.Name, s.now),
	})
	return &rc.logs[len(rc.logs)-1]
}

// series is the scheduler recorder's memory of one isomorphic event.
type series struct {
	obj   *corev1.Event // last written version
	count int32
	last  time.Time
	fact  int // index in the Truth's events
}

// schedulerEvent creates an events.k8s.io-style event about pod p, and
// returns it with its index in the Truth's events.
func (s *Sim) schedulerEvent(p *pod, typ, reason, action, note string) (*corev1.Event, int) {
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:              s.eventName(p.obj.Name, s.now),
			Namespace:         p.obj.Namespace,
			UID:               s.newUID(),
			ResourceVersion:   s.nextRV(),
			CreationTimestamp: metav1.NewTime(s.now),
		},
		InvolvedObject:      p.ref(),
		Reason:              reason,
		Message:             note,
		Type:                typ,
		EventTime:           metav1.NewMicroTime(s.now),
		Action:              action,
		ReportingController: schedulerName,
		ReportingInstance:   schedulerHost,
	}
	s.emitEvent(Create, ev, func() {
		s.series = slices.DeleteFunc(s.series, func(se *series) bool { return se.obj.UID == ev.UID })
	})
	return ev, s.truth.eventCreated(p.r.attr, s.now)
}

// failedScheduling records one FailedScheduling occurrence for p.
func (s *Sim) failedScheduling(p *pod, note string) {
	se := p.sched
	if se == nil || !slices.Contains(s.series, se) {
		ev, fact := s.schedulerEvent(p, eventTypeWarning, "FailedScheduling", "Scheduling", note)
		p.sched = &series{obj: ev, count: 1, last: s.now, fact: fact}
		s.series = append(s.series, p.sched)
		return
	}
	se.count++
	se.last = s.now
	if se.count == 2 {
		s.writeSeries(se)
	}
}

// writeSeries patches se's event with its current series, unless that is
// what was last written (a no-op patch writes nothing).
func (s *Sim) writeSeries(se *series) {
	if o := se.obj.Series; o != nil && o.Count == se.count && o.LastObservedTime.Time.Equal(se.last) {
		return
	}
	ev := se.obj.DeepCopy()
	ev.ResourceVersion = s.nextRV()
	ev.Series = &corev1.EventSeries{Count: se.count, LastObservedTime: metav1.NewMicroTime(se.last)}
	se.obj = ev
	s.emitEvent(Update, ev, func() { s.series = slices.DeleteFunc(s.series, func(x *series) bool { return x == se }) })
	s.truth.eventSeen(se.fact, se.last)
}

// seriesTick is the scheduler recorder's periodic work: every 30 minutes it
// rewrites all series, every 6 minutes it ends series and forgets events
// not seen for 6 minutes.
func (s *Sim) seriesTick(n int) {
	if n%int(seriesRefresh/seriesFinish) == 0 {
		for _, se := range s.series {
			if se.count > 1 {
				s.writeSeries(se)
			}
		}
	}
	keep := s.series[:0]
	for _, se := range s.series {
		if s.now.Sub(se.last) > seriesFinish {
			if se.count > 1 {
				s.writeSeries(se)
			}
			continue
		}
		keep = append(keep, se)
	}
	clear(s.series[len(keep):])
	s.series = keep
	s.after(seriesFinish, func() { s.seriesTick(n + 1) })
}

// eventTTL is how long kube-apiserver keeps an Event after its last write
// (--event-ttl, 1h by default).
const eventTTL = time.Hour

// emitEvent emits a write of ev and, like the API server, deletes the Event
// eventTTL later unless it is written again before then; forget then runs,
// so the recorder creates a new Event for a later occurrence.
func (s *Sim) emitEvent(v Verb, ev *corev1.Event, forget func()) {
	s.emit(v, ev)
	if s.liveEvents == nil {
		s.liveEvents = map[types.UID]*corev1.Event{}
	}
	s.liveEvents[ev.UID] = ev
	s.after(eventTTL, func() {
		if s.liveEvents[ev.UID] != ev {
			return // written again since: its TTL was renewed
		}
		delete(s.liveEvents, ev.UID)
		gone := ev.DeepCopy()
		gone.ResourceVersion = s.nextRV()
		s.emit(Delete, gone)
		forget()
	})
}
