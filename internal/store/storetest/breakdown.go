package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/store"
)

// testBreakdowns checks CountBy and PodsWith on a small history worked out
// by hand.
func (s suite) testBreakdowns(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()
	pod := func(uid, ns, cronjob string) model.Pod {
		return model.Pod{Cluster: "east", Namespace: ns, UID: uid, Name: "pod-" + uid, CronJob: cronjob, CreatedAt: at(0)}
	}
	term := func(pod, container string, attempt int32, reason string, finished time.Duration) model.Termination {
		return model.Termination{Cluster: "east", PodUID: pod, Container: container, Attempt: attempt, Reason: reason,
			FinishedAt: at(finished)}
	}
	wait := func(pod string, attempt int32, reason string, first time.Duration) model.Waiting {
		return model.Waiting{Cluster: "east", PodUID: pod, Container: "main", Attempt: attempt, Reason: reason, FirstSeen: at(first)}
	}
	restart := func(pod, container string, index int32, t time.Duration) model.Restart {
		return model.Restart{Cluster: "east", PodUID: pod, Container: container, Index: index, At: at(t)}
	}
	write(t, st, model.Facts{
		Pods: []model.Pod{pod("a", "ns1", "etl"), pod("b", "ns1", "train"), pod("c", "ns2", "etl")},
		Terminations: []model.Termination{
			term("a", "main", 0, model.ReasonOOMKilled, 1*minute),
			term("a", "main", 1, model.ReasonOOMKilled, 3*minute),
			term("a", "side", 0, "Error", 2*minute),
			term("b", "main", 0, "Error", 2*minute+30*time.Second),
			term("c", "main", 0, "Completed", 5*minute),
			term("c", "main", 1, "Completed", hour), // out of range
			term("ghost", "main", 0, "Error", 4*minute),
		},
		Waits: []model.Waiting{
			wait("a", 1, model.ReasonCrashLoopBackOff, 90*time.Second),
			wait("b", 0, "ImagePullBackOff", 0),
			wait("b", 1, "ImagePullBackOff", minute),
		},
		Restarts: []model.Restart{restart("a", "main", 1, 90*time.Second), restart("a", "side", 1, 2*minute),
			restart("c", "main", 1, 5*minute)},
	}, model.Facts{Pods: []model.Pod{{Cluster: "east", UID: "x", Namespace: "ns1", CronJob: "etl"}}})
	b := store.Buckets{From: at(0), To: at(6 * minute), Step: 2 * minute}
	for _, tc := range []struct {
		k    store.Breakdown
		filt store.Filter
		want []store.KeyCounts
	}{
		{store.TerminationsByReason, store.Filter{}, []store.KeyCounts{
			{Key: "Error", Counts: []int64{0, 2, 1}}, {Key: "OOMKilled", Counts: []int64{1, 1, 0}}, {Key: "Completed", Counts: []int64{0, 0, 1}}}},
		{store.TerminationsByReason, store.Filter{CronJob: "etl"}, []store.KeyCounts{
			{Key: "OOMKilled", Counts: []int64{1, 1, 0}}, {Key: "Completed", Counts: []int64{0, 0, 1}}, {Key: "Error", Counts: []int64{0, 1, 0}}}},
		{store.TerminationsByReason, store.Filter{Namespace: "ns1", CronJob: "train"}, []store.KeyCounts{
			{Key: "Error", Counts: []int64{0, 1, 0}}}},
		{store.TerminationsByReason, store.Filter{Cluster: "west"}, nil},
		{store.WaitsByReason, store.Filter{}, []store.KeyCounts{
			{Key: "ImagePullBackOff", Counts: []int64{2, 0, 0}}, {Key: model.ReasonCrashLoopBackOff, Counts: []int64{1, 0, 0}}}},
		{store.WaitsByReason, store.Filter{CronJob: "etl"}, []store.KeyCounts{
			{Key: model.ReasonCrashLoopBackOff, Counts: []int64{1, 0, 0}}}},
		{store.RestartsByContainer, store.Filter{}, []store.KeyCounts{
			{Key: "main", Counts: []int64{1, 0, 1}}, {Key: "side", Counts: []int64{0, 1, 0}}}},
		{store.RestartsByContainer, store.Filter{Namespace: "ns2"}, []store.KeyCounts{
			{Key: "main", Counts: []int64{0, 0, 1}}}},
	} {
		got, err := st.CountBy(ctx, tc.k, b, tc.filt)
		if err != nil {
			t.Fatalf("CountBy(%s, %+v): %v", tc.k, tc.filt, err)
		}
		diff(t, fmt.Sprintf("CountBy(%s, %+v)", tc.k, tc.filt), tc.want, got)
	}
	if _, err := st.CountBy(ctx, "nonsense", b, store.Filter{}); err == nil {
		t.Error("CountBy of an unknown breakdown: no error")
	}

	l := store.Listing{From: b.From, To: b.To, Limit: 10}
	for _, tc := range []struct {
		k    store.Breakdown
		key  string
		filt store.Filter
		want []string
	}{
		{store.TerminationsByReason, "Error", store.Filter{}, []string{"ghost", "b", "a"}},
		{store.TerminationsByReason, "Error", store.Filter{Namespace: "ns1"}, []string{"b", "a"}},
		{store.TerminationsByReason, "OOMKilled", store.Filter{}, []string{"a"}},
		{store.TerminationsByReason, "Completed", store.Filter{}, []string{"c"}},
		{store.TerminationsByReason, "Nope", store.Filter{}, nil},
		{store.WaitsByReason, "ImagePullBackOff", store.Filter{}, []string{"b"}},
		{store.RestartsByContainer, "main", store.Filter{}, []string{"c", "a"}},
		{store.RestartsByContainer, "main", store.Filter{CronJob: "etl", Namespace: "ns1"}, []string{"a"}},
	} {
		l.Filter = tc.filt
		pods, err := st.PodsWith(ctx, tc.k, tc.key, l)
		if err != nil {
			t.Fatalf("PodsWith(%s, %s): %v", tc.k, tc.key, err)
		}
		var got []string
		for _, p := range pods {
			got = append(got, p.UID)
			if p.UID != "ghost" && p.Name != "pod-"+p.UID {
				t.Errorf("PodsWith(%s, %s): pod %s has name %q", tc.k, tc.key, p.UID, p.Name)
			}
		}
		diff(t, fmt.Sprintf("PodsWith(%s, %s, %+v)", tc.k, tc.key, tc.filt), tc.want, got)
	}
	l.Filter, l.Limit = store.Filter{}, 1
	if pods, err := st.PodsWith(ctx, store.TerminationsByReason, "Error", l); err != nil || len(pods) != 1 || pods[0].UID != "ghost" {
		t.Errorf("PodsWith limit 1 = %v, %v", pods, err)
	}
}
