package web

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/model"
	"github.com/batchlens/batchlens/internal/query"
	"github.com/batchlens/batchlens/internal/store/sqlite"
)

// drillFixture serves a real SQLite store holding one failed run of CronJob
// etl with an OOM-killed pod.
func drillFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := testNow.Add(-time.Hour)
	err = st.Write(ctx, model.Facts{
		Runs: []model.Run{{Cluster: "c1", Namespace: "ds", UID: "r1", Name: "etl-1", CronJob: "etl", CreatedAt: at,
			FinishedAt: at.Add(time.Minute), Outcome: model.OutcomeFailed, Reason: "BackoffLimitExceeded"}},
		Pods: []model.Pod{{Cluster: "c1", Namespace: "ds", UID: "p1", Name: "etl-1-x", JobUID: "r1", CronJob: "etl",
			CreatedAt: at, FinishedAt: at.Add(time.Minute), Phase: model.PhaseFailed}},
		Terminations: []model.Termination{{Cluster: "c1", PodUID: "p1", Container: "main", Reason: model.ReasonOOMKilled,
			ExitCode: 137, FinishedAt: at.Add(time.Minute)}},
		Events: []model.Event{{Cluster: "c1", UID: "e1", Namespace: "ds", InvolvedKind: "Pod", InvolvedUID: "p1",
			InvolvedName: "etl-1-x", Reason: "OOMKilling", LastSeen: at}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	f.h = New(query.New(st, func() time.Time { return testNow }), nil)
	return f
}

func TestDrillStatus(t *testing.T) {
	f := drillFixture(t)
	items := "/api/v1/dashboards/leadership/widgets/pods_oom/items"
	for _, c := range []struct {
		target string
		status int
	}{
		{items, 200},
		{items + "?last=7d&cluster=c1&namespace=ds&cronjob=etl", 200},
		{"/api/v1/dashboards/engineering/widgets/pods_bad_phase/items?series=Pending", 200},
		{"/api/v1/dashboards/engineering/widgets/events/items?last=24h", 200},
		{"/api/v1/runs/c1/r1", 200},
		{"/api/v1/pods/c1/p1", 200},
		{"/api/v1/cronjobs/c1/ds/etl?last=7d", 200},
		{"/api/v1/cronjobs/c1/ds/unknown", 200}, // no runs: zeros

		{items + "?last=2h", 400},
		{items + "?series=Failed", 400},
		{items + "?series=a&series=b", 400},
		{items + "?foo=1", 400},
		{items + "?cluster=%ff", 400},
		{"/api/v1/dashboards/engineering/widgets/pods_bad_phase/items", 400},
		{"/api/v1/dashboards/engineering/widgets/pods_bad_phase/items?series=Running", 400},
		{"/api/v1/dashboards/engineering/widgets/top_cronjobs/items", 400},
		{"/api/v1/dashboards/engineering/widgets/cpu_by_cronjob/items", 400},
		{"/api/v1/runs/c1/r1?x=1", 400},
		{"/api/v1/pods/c1/p1?last=1h", 400},
		{"/api/v1/runs/c1/r1?%zz", 400},
		{"/api/v1/cronjobs/c1/ds/etl?cronjob=x", 400},
		{"/api/v1/cronjobs/c1/ds/etl?last=1y", 400},
		{"/api/v1/cronjobs/c1/ds/etl?from=2025-06-01T11:00:00Z&to=2025-06-01T10:00:00Z", 400},

		{"/api/v1/dashboards/nope/widgets/jobs/items", 404},
		{"/api/v1/dashboards/leadership/widgets/jobs_failed/items", 404},
		{"/api/v1/dashboards/leadership/widgets/" + strings.Repeat("x", 1<<12) + "/items", 404},
		{"/api/v1/runs/c1/nope", 404},
		{"/api/v1/runs/c2/r1", 404},
		{"/api/v1/pods/c1/r1", 404},
		{"/api/v1/pods/c1", 404},
		{"/api/v1/runs/c1/r1/extra", 404},
	} {
		rec := f.do("GET", c.target)
		name := c.target[:min(len(c.target), 80)]
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d; body %.200s", name, rec.Code, c.status, rec.Body)
			continue
		}
		if rec.Code >= 400 {
			errorBody(t, rec)
		}
	}
	if rec := f.do("POST", "/api/v1/runs/c1/r1"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST run: %d", rec.Code)
	}
}

// TestDrillBodies follows a number to its evidence through the JSON: the
// OOM count, the pod behind it, its termination.
func TestDrillBodies(t *testing.T) {
	f := drillFixture(t)
	get := func(target string, v any) {
		t.Helper()
		rec := f.do("GET", target)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatal(err)
		}
	}
	var items query.Items
	get("/api/v1/dashboards/leadership/widgets/pods_oom/items?last=24h", &items)
	if items.Kind != "pods" || items.Total != 1 || len(items.Pods) != 1 || items.Pods[0].Name != "etl-1-x" {
		t.Fatalf("items = %+v", items)
	}
	var pod query.PodDetail
	get("/api/v1/pods/c1/"+items.Pods[0].UID, &pod)
	if pod.Run == nil || pod.Run.Name != "etl-1" || len(pod.Terminations) != 1 ||
		pod.Terminations[0].Reason != "OOMKilled" || pod.Terminations[0].ExitCode != 137 || len(pod.Events) != 1 {
		t.Errorf("pod = %+v", pod)
	}
	var run query.RunDetail
	get("/api/v1/runs/c1/r1", &run)
	if run.Run.Reason != "BackoffLimitExceeded" || len(run.Pods) != 1 || len(run.Events) != 1 {
		t.Errorf("run = %+v", run)
	}
	var cj query.CronJobDetail
	get("/api/v1/cronjobs/c1/ds/etl?last=24h", &cj)
	if cj.RunsCreated != 1 || cj.RunsFailed != 1 || len(cj.FailureReasons) != 1 || len(cj.Runs) != 1 {
		t.Errorf("cronjob = %+v", cj)
	}
}
