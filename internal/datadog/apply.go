package datadog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
)

// Export writes the dashboards (one file per dashboard id) and the monitors
// (monitors.json, an array) of metric source m into dir, as JSON bodies of
// the v1 Dashboards and Monitors APIs. It returns the files written.
func Export(dir string, m Metrics) ([]string, error) {
	ds, err := Dashboards(m)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var files []string
	write := func(name string, v any) error {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // queries keep their > and <
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		files = append(files, path)
		return nil
	}
	for _, d := range ds {
		if err := write(d.ID+".json", d.Doc); err != nil {
			return nil, err
		}
	}
	var ms []Monitor
	for _, mo := range Monitors(m) {
		ms = append(ms, mo.Doc)
	}
	return files, write("monitors.json", ms)
}

// Target is the Datadog organisation Apply writes to.
type Target struct {
	APIKey string // DD_API_KEY; never logged or shown
	AppKey string // DD_APP_KEY; never logged or shown
	// Site is the Datadog site (datadoghq.com, datadoghq.eu, us3.datadoghq.com,
	// …), or a URL such as http://127.0.0.1:8126 for a server of one's own.
	Site       string
	HTTPClient *http.Client // nil: http.DefaultClient
	MaxRetries int          // retries after 429 or 5xx, waiting as X-RateLimit-Reset says
}

// Action is what Apply did, or would do, to one document.
type Action string

// The actions.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
)

// Change is one document's Action.
type Change struct {
	Action Action
	What   string // "dashboard <title>" or "monitor <name>"
	ID     string // Datadog's id; "" for one not created yet
}

func (c Change) String() string {
	if c.ID == "" {
		return fmt.Sprintf("%-9s %s", c.Action, c.What)
	}
	return fmt.Sprintf("%-9s %s (id %s)", c.Action, c.What, c.ID)
}

// Apply creates or updates every dashboard and monitor of metric source m
// in t, finding those applied before by their tag (DashboardTag in a
// dashboard's description, MonitorTag on a monitor). A document that
// already holds every field batchlens sets is left alone. With dryRun it
// only reads, and reports what it would change.
func Apply(ctx context.Context, t Target, m Metrics, dryRun bool) ([]Change, error) {
	ctx, client, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := Dashboards(m)
	if err != nil {
		return nil, err
	}
	dapi := datadogV1.NewDashboardsApi(client)
	existing, err := t.listDashboards(ctx, dapi)
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, d := range ds {
		var body datadogV1.Dashboard
		if err := convert(d.Doc, &body); err != nil {
			return changes, err
		}
		c := Change{What: title(d), ID: existing[d.Tag]}
		switch {
		case c.ID == "":
			c.Action = Create
			if !dryRun {
				got, resp, err := dapi.CreateDashboard(ctx, body)
				if err != nil {
					return changes, t.failed("create "+c.What, resp, err)
				}
				c.ID = got.GetId()
			}
		default:
			cur, resp, err := dapi.GetDashboard(ctx, c.ID)
			if err != nil {
				return changes, t.failed("read "+c.What, resp, err)
			}
			if c.Action = Unchanged; !holds(cur, d.Doc) {
				c.Action = Update
				if !dryRun {
					if _, resp, err := dapi.UpdateDashboard(ctx, c.ID, body); err != nil {
						return changes, t.failed("update "+c.What, resp, err)
					}
				}
			}
		}
		changes = append(changes, c)
	}

	mapi := datadogV1.NewMonitorsApi(client)
	monitors, resp, err := mapi.ListMonitors(ctx, *datadogV1.NewListMonitorsOptionalParameters().WithMonitorTags(ManagedTag))
	if err != nil {
		return changes, t.failed("list monitors", resp, err)
	}
	for _, mo := range Monitors(m) {
		c := Change{What: title(mo)}
		var cur *datadogV1.Monitor
		for i := range monitors {
			if slices.Contains(monitors[i].Tags, mo.Tag) {
				cur = &monitors[i]
				c.ID = fmt.Sprint(cur.GetId())
				break
			}
		}
		switch {
		case cur == nil:
			c.Action = Create
			var body datadogV1.Monitor
			if err := convert(mo.Doc, &body); err != nil {
				return changes, err
			}
			if !dryRun {
				got, resp, err := mapi.CreateMonitor(ctx, body)
				if err != nil {
					return changes, t.failed("create "+c.What, resp, err)
				}
				c.ID = fmt.Sprint(got.GetId())
			}
		case holds(cur, mo.Doc):
			c.Action = Unchanged
		default:
			c.Action = Update
			var body datadogV1.MonitorUpdateRequest
			if err := convert(mo.Doc, &body); err != nil {
				return changes, err
			}
			if !dryRun {
				if _, resp, err := mapi.UpdateMonitor(ctx, cur.GetId(), body); err != nil {
					return changes, t.failed("update "+c.What, resp, err)
				}
			}
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// client returns the API client and the context that carries t's keys and
// server.
func (t Target) client(ctx context.Context) (context.Context, *datadog.APIClient, error) {
	if t.APIKey == "" || t.AppKey == "" {
		return nil, nil, errors.New("DD_API_KEY and DD_APP_KEY must be set")
	}
	cfg := datadog.NewConfiguration()
	cfg.RetryConfiguration.EnableRetry = t.MaxRetries > 0
	cfg.RetryConfiguration.MaxRetries = t.MaxRetries
	if t.HTTPClient != nil {
		cfg.HTTPClient = t.HTTPClient
	}
	ctx = context.WithValue(ctx, datadog.ContextAPIKeys, map[string]datadog.APIKey{
		"apiKeyAuth": {Key: t.APIKey},
		"appKeyAuth": {Key: t.AppKey},
	})
	site := t.Site
	if site == "" {
		site = "datadoghq.com"
	}
	if strings.Contains(site, "://") {
		u, err := url.Parse(site)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, nil, fmt.Errorf("DD_SITE %q: want a site such as datadoghq.eu or an http(s) URL", site)
		}
		ctx = context.WithValue(ctx, datadog.ContextServerIndex, 1) // "{protocol}://{name}"
		ctx = context.WithValue(ctx, datadog.ContextServerVariables, map[string]string{"protocol": u.Scheme, "name": u.Host})
	} else {
		ctx = context.WithValue(ctx, datadog.ContextServerVariables, map[string]string{"site": site})
	}
	return ctx, datadog.NewAPIClient(cfg), nil
}

// listDashboards returns the ids of the dashboards batchlens manages, by
// the DashboardTag in their description.
func (t Target) listDashboards(ctx context.Context, api *datadogV1.DashboardsApi) (map[string]string, error) {
	const page = 100
	ids := map[string]string{}
	for start := int64(0); ; start += page {
		list, resp, err := api.ListDashboards(ctx, *datadogV1.NewListDashboardsOptionalParameters().WithCount(page).WithStart(start))
		if err != nil {
			return nil, t.failed("list dashboards", resp, err)
		}
		for _, d := range list.Dashboards {
			for _, f := range strings.Fields(d.GetDescription()) {
				if strings.HasPrefix(f, "batchlens-dashboard:") {
					ids[f] = d.GetId()
				}
			}
		}
		if len(list.Dashboards) < page {
			return ids, nil
		}
	}
}

// failed explains a failed call; it never includes the keys.
func (t Target) failed(what string, resp *http.Response, err error) error {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	switch status {
	case http.StatusForbidden, http.StatusUnauthorized:
		return fmt.Errorf("%s: Datadog refused the keys (%d): check that DD_API_KEY and DD_APP_KEY belong to the organisation on DD_SITE %q and that the application key may read and write dashboards and monitors", what, status, t.Site)
	case http.StatusTooManyRequests:
		return fmt.Errorf("%s: rate limited by Datadog (429) after %d retries; try again later", what, t.MaxRetries)
	}
	var api datadog.GenericOpenAPIError
	if errors.As(err, &api) && len(api.Body()) > 0 {
		return fmt.Errorf("%s: %w: %s", what, err, strings.TrimSpace(string(api.Body())))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// convert turns one JSON shape into another (ours into the client's).
func convert(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}

// holds reports whether current has every field of want with the same
// value: what the server adds (ids, authors, times, defaults) is ignored.
func holds(current, want any) bool {
	var c, w any
	if convert(current, &c) != nil || convert(want, &w) != nil {
		return false
	}
	return subset(c, w)
}

func subset(c, w any) bool {
	switch w := w.(type) {
	case map[string]any:
		cm, ok := c.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !subset(cm[k], v) {
				return false
			}
		}
		return true
	case []any:
		cs, ok := c.([]any)
		if !ok || len(cs) != len(w) {
			return false
		}
		for i := range w {
			if !subset(cs[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(c, w)
}
