//go:build e2e

// Package e2e proves batchlens against a real control plane (e2e/plane) driven by a scenario
// whose ground truth is known (e2e/scenario). Run it with `make e2e`.
package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	_ "modernc.org/sqlite"

	"github.com/batchlens/batchlens/e2e/kubelet"
	"github.com/batchlens/batchlens/e2e/plane"
	"github.com/batchlens/batchlens/e2e/scenario"
)

// The scenario's namespaces; the namespace-scoped batchlens watches the first two.
var (
	namespaces = []string{"e2e-a", "e2e-b", "e2e-c"}
	scoped     = namespaces[:2]
)

// phases records how long each phase took, printed at the end.
type phases struct {
	t     *testing.T
	start time.Time
	lines []string
}

func (p *phases) done(name string) {
	d := time.Since(p.start)
	p.lines = append(p.lines, fmt.Sprintf("%-44s %7.1f s", name, d.Seconds()))
	p.t.Logf("phase %q took %.1f s", name, d.Seconds())
	p.start = time.Now()
}

func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ph := &phases{t: t, start: time.Now()}
	defer func() {
		fmt.Fprintf(os.Stderr, "\ne2e phases:\n  %s\n", strings.Join(ph.lines, "\n  "))
	}()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}

	bin, err := plane.Build(ctx, repo, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	batchlens := filepath.Join(t.TempDir(), "batchlens")
	build := exec.CommandContext(ctx, "go", "build", "-o", batchlens, "./cmd/batchlens")
	build.Dir, build.Stderr = repo, os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build batchlens: %v", err)
	}
	ph.done("build (control plane cached after the first run)")

	// Everything the run leaves (component logs, kubeconfigs, each batchlens' database and log)
	// stays in one directory, removed when the test passes and kept for a look when it fails.
	work, err := os.MkdirTemp("", "batchlens-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs and databases kept in %s", work)
			return
		}
		os.RemoveAll(work)
	})
	p, err := plane.Start(ctx, plane.Options{Bin: bin, Work: work, Log: log,
		Stages: []string{filepath.Join(repo, "e2e", "stages", "batchlens.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	for _, ns := range append([]string{"batchlens"}, namespaces...) {
		if err := p.EnsureNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
	// kwok's nodes serve no kubelet stats: e2e/kubelet serves them, from the scenario's usage
	// profile, where the API server's node proxy looks for each node's kubelet.
	kubelets, err := kubelet.Start(ctx, p.Admin, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := kubelets.Close(); err != nil {
			t.Error(err)
		}
	}()
	nodes, err := p.Admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		if err := kubelets.Serve(ctx, n.Name); err != nil {
			t.Fatal(err)
		}
	}
	ph.done("start the control plane")

	// Least privilege: the cluster-wide instances run as the ServiceAccount of deploy/rbac.yaml,
	// bound only to its ClusterRole; the namespaced one as a second ServiceAccount bound only to
	// deploy/rbac-namespace.yaml's Role in two namespaces. The rules are the shipped files'.
	apply(ctx, t, p.Admin, filepath.Join(repo, "deploy", "rbac.yaml"), nil)
	// The cluster-wide ServiceAccount also gets the optional nodes/proxy
	// role for resource usage; the namespaced one does not, so it shows
	// how batchlens degrades without it.
	apply(ctx, t, p.Admin, filepath.Join(repo, "deploy", "rbac-usage.yaml"), nil)
	if _, err := p.Admin.CoreV1().ServiceAccounts("batchlens").Create(ctx, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "batchlens-scoped"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ns := range scoped {
		apply(ctx, t, p.Admin, filepath.Join(repo, "deploy", "rbac-namespace.yaml"), func(data string) string {
			return strings.ReplaceAll(data, "NAMESPACE", ns)
		}, func(o runtime.Object) {
			if rb, ok := o.(*rbacv1.RoleBinding); ok {
				rb.Subjects[0].Name = "batchlens-scoped"
			}
		})
	}
	clusterKube := kubeconfigFor(ctx, t, p, "batchlens")
	scopedKube := kubeconfigFor(ctx, t, p, "batchlens-scoped")

	interval := "--sample-interval=" + sampleInterval.String()
	ref := newInstance(t, work, "reference", batchlens, clusterKube, interval)
	killed := newInstance(t, work, "killed", batchlens, clusterKube, interval)
	ns := newInstance(t, work, "namespaced", batchlens, scopedKube, interval, "--namespace", scoped[0], "--namespace", scoped[1])
	for _, b := range []*instance{ref, killed, ns} {
		if err := b.start(ctx); err != nil {
			t.Fatal(err)
		}
		defer b.stop()
	}
	ph.done("start three batchlens instances")

	// The scenario: CronJobs every minute and plain Jobs at a steady pace (jobs of them over
	// about 3 minutes); the late pool's node at a third of it; batchlens "killed" gets SIGKILL at
	// a quarter and is back at a third; the API server restarts at two thirds.
	// BATCHLENS_E2E_QUICK=1 runs a 25-job version for working on the scenario itself; it
	// skips the 200-run minimum, nothing else.
	jobs, every := 220, 800*time.Millisecond
	quick := os.Getenv("BATCHLENS_E2E_QUICK") == "1"
	if quick {
		jobs, every = 25, 300*time.Millisecond
	}
	span := time.Duration(jobs) * every
	sc := scenario.New(p.Admin, namespaces, log)
	if err := sc.StartCronJobs(ctx); err != nil {
		t.Fatal(err)
	}
	// The usage runs start with the scenario and are over before the API server restarts.
	usageFrom := time.Now().UTC()
	usageJobs, err := sc.StartUsage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- sc.CreateJobs(ctx, jobs, every) }()
	begin := time.Now()
	at := func(fraction float64) {
		if err := scenario.Sleep(ctx, time.Until(begin.Add(time.Duration(fraction*float64(span))))); err != nil {
			t.Fatal(err)
		}
	}
	at(0.25)
	killed.kill()
	log.Info("batchlens killed with SIGKILL")
	at(0.34)
	if err := killed.start(ctx); err != nil {
		t.Fatal(err)
	}
	log.Info("batchlens restarted on its database")
	if err := p.AddNode(ctx, "kwok-late-0", map[string]string{scenario.PoolLabel: "late"}); err != nil {
		t.Fatal(err)
	}
	if err := kubelets.Serve(ctx, "kwok-late-0"); err != nil {
		t.Fatal(err)
	}
	if err := sc.WaitJobs(ctx, usageJobs, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	at(0.65)
	if err := scenario.Sleep(ctx, clearOfCronJobRuns(time.Now())); err != nil {
		t.Fatal(err)
	}
	restartedAt := time.Now().UTC()
	if err := p.RestartAPIServer(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	restart := [][2]time.Time{{restartedAt, time.Now().UTC().Add(time.Second)}}
	log.Info("API server restarted")
	if err := <-jobsDone; err != nil {
		t.Fatal(err)
	}
	if err := sc.SuspendCronJobs(ctx); err != nil {
		t.Fatal(err)
	}
	ph.done("scenario")
	if err := sc.Settle(ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	ph.done("scenario settles")
	compareShapes(ctx, t, p.Admin)

	truth := sc.Truth()
	all := truth.Tally()
	t.Logf("ground truth: %s", all)
	if all.Runs < 200 && !quick {
		t.Fatalf("the scenario made %d runs, want at least 200", all.Runs)
	}
	check := func(b *instance, nss []string) {
		t.Helper()
		want := truth.Tally(nss...)
		wantEvents := apiEvents(ctx, t, p.Admin, nss)
		var diffs []string
		for range 60 { // batchlens may still be writing its last batch
			diffs = compare(ctx, b, url.Values{"last": {"1h"}}, want, truth.CronJobRuns(nss...), wantEvents)
			if len(diffs) == 0 {
				break
			}
			time.Sleep(time.Second)
		}
		for _, d := range diffs {
			t.Errorf("%s: %s", b.name, d)
		}
	}
	check(ref, nil)
	for _, n := range namespaces {
		nsTruth := truth.Tally(n)
		if diffs := compare(ctx, ref, url.Values{"last": {"1h"}, "namespace": {n}}, nsTruth, truth.CronJobRuns(n), apiEvents(ctx, t, p.Admin, []string{n})); len(diffs) > 0 {
			t.Errorf("reference, namespace %s: %s", n, strings.Join(diffs, "; "))
		}
	}
	check(ns, scoped)
	// Resource usage: without get on nodes/proxy the widgets say why they
	// are unavailable, and everything else above still matched.
	for _, b := range []*instance{ref, ns} {
		eng, err := b.dashboard(ctx, "engineering", url.Values{"last": {"1h"}}, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range usageWidgets {
			w, ok := eng[id]
			if refused := b == ns; !ok || w.Available == refused || refused != strings.Contains(w.Reason, "nodes/proxy") {
				t.Errorf("%s: %s present %v, available %v, reason %q", b.name, id, ok, w.Available, w.Reason)
			}
		}
	}
	// Resource usage through the node proxy equals what the kubelets were fed.
	usageTo := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	for _, c := range sc.UsageCronJobs() {
		var (
			diffs, bounded []string
			checked        int
		)
		for range 10 { // the last samples may still be on their way to the store
			if diffs, bounded, checked = compareUsage(ctx, ref, c, usageFrom.Truncate(time.Minute), usageTo); len(diffs) == 0 {
				break
			}
			time.Sleep(time.Second)
		}
		t.Logf("resource usage of %s/%s: %d figures compared with what its kubelets were fed; those bounded by the sampling:\n  %s",
			c.Namespace, c.Name, checked, strings.Join(bounded, "\n  "))
		for _, d := range diffs {
			t.Errorf("reference, %s/%s: %s", c.Namespace, c.Name, d)
		}
	}
	ph.done("compare widgets with the ground truth")

	// The killed instance: nothing counted twice (no widget above the reference, which equals
	// the truth), and every fact about objects that still exist is present.
	refW, err := ref.widgets(ctx, "engineering", url.Values{"last": {"1h"}})
	if err != nil {
		t.Fatal(err)
	}
	killW, err := killed.widgets(ctx, "engineering", url.Values{"last": {"1h"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"jobs", "jobs_succeeded", "jobs_failed", "pods_oom", "container_restarts", "pods_crashloop"} {
		r, k := num(refW[id].Value), num(killW[id].Value)
		t.Logf("after SIGKILL: %s = %v (reference %v)", id, k, r)
		if k > r {
			t.Errorf("killed instance counts %s = %v, more than the truth %v: a fact counted twice", id, k, r)
		}
	}
	for _, b := range []*instance{ref, killed, ns} {
		if err := b.stop(); err != nil {
			t.Error(err)
		}
		bad, excused := forbidden(b.logs(), restart)
		if len(bad) > 0 {
			t.Errorf("%s logged authorization failures:\n%s", b.name, strings.Join(bad, "\n"))
		}
		if n := strings.Count(b.logs(), usageRefused); b == ns && n != 1 {
			t.Errorf("%s, without get on nodes/proxy, warned %d times that resource usage is unavailable, want once", b.name, n)
		}
		t.Logf("%s: %d authorization failures logged while the API server restarted (it answers 403 until its RBAC caches sync)", b.name, excused)
	}
	present(ctx, t, p.Admin, ref.dbPath(), killed.dbPath())
	ph.done("check the killed instance")
}

// compareShapes checks that the Jobs and Events of the real control plane are shaped like the
// simulator's where the ledger reads them, and logs every other difference.
func compareShapes(ctx context.Context, t *testing.T, c kubernetes.Interface) {
	t.Helper()
	real := shape{}
	jobs, err := c.BatchV1().Jobs(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range jobs.Items {
		real.add(jobKey(&jobs.Items[i]), jobShape(&jobs.Items[i]))
	}
	evs, err := c.CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs.Items {
		real.add(eventKey(&evs.Items[i]), eventShape(&evs.Items[i]))
	}
	failures, notes := diffShapes(real, simShape(24), ledgerPaths)
	for _, n := range notes {
		t.Logf("shape: %s", n)
	}
	for _, f := range failures {
		t.Errorf("shape: %s", f)
	}
}

// compare returns how an instance's leadership and engineering overview widgets differ from
// the truth.
func compare(ctx context.Context, b *instance, q url.Values, want scenario.Tally, top []scenario.KeyCount, events int) []string {
	lead, err := b.widgets(ctx, "leadership", q)
	if err != nil {
		return []string{err.Error()}
	}
	eng, err := b.widgets(ctx, "engineering", q)
	if err != nil {
		return []string{err.Error()}
	}
	finished := want.PodsSucceeded + want.PodsFailed
	rate := func(n int) float64 {
		if finished == 0 {
			return math.NaN()
		}
		return float64(n) * 100 / float64(finished)
	}
	checks := []struct {
		dash map[string]widget
		id   string
		got  float64
		want float64
	}{
		{lead, "jobs", num(lead["jobs"].Value), float64(want.Runs)},
		{lead, "success_rate", num(lead["success_rate"].Value), rate(want.PodsSucceeded)},
		{lead, "failure_rate", num(lead["failure_rate"].Value), rate(want.PodsFailed)},
		{lead, "pods_failed", num(lead["pods_failed"].Value), float64(want.PodsFailed)},
		{lead, "pods_oom", num(lead["pods_oom"].Value), float64(want.PodsOOM)},
		{lead, "container_restarts", num(lead["container_restarts"].Value), float64(want.Restarts)},
		{lead, "pods_crashloop", num(lead["pods_crashloop"].Value), float64(want.PodsCrashLoop)},
		{lead, "pods_pending", num(lead["pods_pending"].Value), float64(want.PodsPendingEnd)},
		{eng, "jobs", num(eng["jobs"].Value), float64(want.Runs)},
		{eng, "jobs_succeeded", num(eng["jobs_succeeded"].Value), float64(want.RunsSucceeded)},
		{eng, "jobs_failed", num(eng["jobs_failed"].Value), float64(want.RunsFailed)},
		{eng, "pods_oom", num(eng["pods_oom"].Value), float64(want.PodsOOM)},
		{eng, "container_restarts", num(eng["container_restarts"].Value), float64(want.Restarts)},
		{eng, "pods_crashloop", num(eng["pods_crashloop"].Value), float64(want.PodsCrashLoop)},
		{eng, "pods_bad_phase", num(eng["pods_bad_phase"].Values["Pending"]), float64(want.PodsPendingEnd)},
		{eng, "pods_bad_phase", num(eng["pods_bad_phase"].Values["Failed"]), float64(want.PodsFailed)},
		{eng, "events", float64(ptr.Deref(eng["events"].Total, -1)), float64(events)},
	}
	var diffs []string
	for _, c := range checks {
		if _, ok := c.dash[c.id]; !ok {
			diffs = append(diffs, "widget "+c.id+" missing")
			continue
		}
		same := c.got == c.want || (math.IsNaN(c.got) && math.IsNaN(c.want)) || math.Abs(c.got-c.want) < 1e-9
		if !same {
			diffs = append(diffs, fmt.Sprintf("%s = %v, truth %v", c.id, c.got, c.want))
		}
	}
	var rows []string
	for _, r := range eng["top_cronjobs"].Rows {
		rows = append(rows, fmt.Sprintf("%s/%s=%d", r.Namespace, r.CronJob, r.Value))
	}
	var wantRows []string
	for _, k := range top[:min(10, len(top))] {
		wantRows = append(wantRows, fmt.Sprintf("%s/%s=%d", k.Namespace, k.CronJob, k.Count))
	}
	if !slices.Equal(rows, wantRows) {
		diffs = append(diffs, fmt.Sprintf("top_cronjobs = %v, truth %v", rows, wantRows))
	}
	return diffs
}

// num is a widget value, NaN for null.
func num(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// apiEvents counts the Events the API server holds in the namespaces (all when nss is nil):
// the events widget counts each Event object once.
func apiEvents(ctx context.Context, t *testing.T, c kubernetes.Interface, nss []string) int {
	t.Helper()
	if nss == nil {
		nss = []string{metav1.NamespaceAll}
	}
	n := 0
	for _, ns := range nss {
		evs, err := c.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n += len(evs.Items)
	}
	return n
}

// present checks that the killed instance's store has every fact the reference has about the
// Jobs, Pods and Events that still exist.
func present(ctx context.Context, t *testing.T, c kubernetes.Interface, refDB, killedDB string) {
	t.Helper()
	open := func(path string) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	ref, killed := open(refDB), open(killedDB)
	var uids []string
	jobs, err := c.BatchV1().Jobs(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Items {
		uids = append(uids, string(j.UID))
	}
	pods, err := c.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		uids = append(uids, string(p.UID))
	}
	queries := []string{
		"SELECT 'run', outcome, reason, succeeded, failed FROM runs WHERE uid = ?",
		"SELECT 'pod', phase, reason, oom_at IS NOT NULL, crashloop_at IS NOT NULL FROM pods WHERE uid = ? AND known = 1",
		"SELECT 'termination', container, attempt, reason, exit_code FROM terminations WHERE pod_uid = ? ORDER BY 2, 3",
		"SELECT 'restart', container, restart_index, 0, 0 FROM restarts WHERE pod_uid = ? ORDER BY 2, 3",
	}
	facts := 0
	for _, uid := range uids {
		for _, q := range queries {
			want, got := rowsOf(t, ref, q, uid), rowsOf(t, killed, q, uid)
			facts += len(want)
			if !slices.Equal(want, got) {
				t.Errorf("after SIGKILL, facts of %s differ: reference %v, killed %v", uid, want, got)
			}
		}
	}
	evs, err := c.CoreV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		q := "SELECT 'event', reason, involved_uid, 0, 0 FROM events WHERE uid = ?"
		want, got := rowsOf(t, ref, q, string(e.UID)), rowsOf(t, killed, q, string(e.UID))
		facts += len(want)
		if len(want) != 1 || !slices.Equal(want, got) {
			t.Errorf("after SIGKILL, event %s: reference %v, killed %v", e.UID, want, got)
		}
	}
	t.Logf("after SIGKILL: %d facts about %d existing objects and %d events compared", facts, len(uids), len(evs.Items))
}

func rowsOf(t *testing.T, db *sql.DB, q, uid string) []string {
	t.Helper()
	rows, err := db.Query(q, uid)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, b, c, d, e any
		if err := rows.Scan(&a, &b, &c, &d, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(a, b, c, d, e))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// apply creates the objects of a shipped manifest, after edit (on the text) and fix (on each
// object) when given.
func apply(ctx context.Context, t *testing.T, c kubernetes.Interface, path string, edit func(string) string, fix ...func(runtime.Object)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if edit != nil {
		text = edit(text)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	for {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); err != nil {
			if err.Error() == "EOF" {
				return
			}
			t.Fatalf("decode %s: %v", path, err)
		}
		if len(raw.Raw) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw.Raw, nil, nil)
		if err != nil {
			t.Fatalf("decode %s: %v", path, err)
		}
		for _, f := range fix {
			f(obj)
		}
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			_, err = c.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRole:
			_, err = c.RbacV1().ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.ClusterRoleBinding:
			_, err = c.RbacV1().ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			_, err = c.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			_, err = c.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
		default:
			t.Fatalf("%s: unexpected %T", path, obj)
		}
		if err != nil {
			t.Fatalf("apply %s: %v", path, err)
		}
	}
}

// kubeconfigFor writes a kubeconfig with a 2-hour token of a ServiceAccount in namespace batchlens.
func kubeconfigFor(ctx context.Context, t *testing.T, p *plane.Plane, sa string) string {
	t.Helper()
	tr, err := p.Admin.CoreV1().ServiceAccounts("batchlens").CreateToken(ctx, sa, &authv1.TokenRequest{
		Spec: authv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7200)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path, err := p.Kubeconfig(sa, tr.Status.Token)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// clearOfCronJobRuns is how long to wait before restarting the API server so that it is up
// again, and batchlens' watches with it, before the CronJobs' next runs (on the minute) and
// after their last ones are gone (their pods live a few seconds, some are deleted 3 s after):
// until 12 to 30 s past a minute. A pod whose whole life falls while the watches relist after
// the restart is seen by no watcher, and the truth counts it. The restart itself takes up to
// about 15 s (a graceful drain, 3 s down, start-up): started at 45 s past a minute, the API
// server came back at :58, and the CronJob controller, its status update refused as stale,
// made the run of the minute twice (its first Job, TTL 0, already gone) — a real second run
// that batchlens counted and the schedule-based truth did not.
func clearOfCronJobRuns(now time.Time) time.Duration {
	sec := now.Sub(now.Truncate(time.Minute))
	switch {
	case sec < 12*time.Second:
		return 12*time.Second - sec
	case sec > 30*time.Second:
		return time.Minute - sec + 12*time.Second
	}
	return 0
}
