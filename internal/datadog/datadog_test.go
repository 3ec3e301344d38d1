package datadog

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"

	"github.com/batchlens/batchlens/internal/dashboard"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func sources() []Metrics { return []Metrics{Kubernetes, Batchlens} }

// TestEveryWidgetHasADefinition: each catalogue widget is shown in Datadog,
// for each metric source, and no definition is left over.
func TestEveryWidgetHasADefinition(t *testing.T) {
	for _, m := range sources() {
		ds := defs(m)
		seen := map[string]bool{}
		for _, d := range dashboard.All() {
			for _, w := range d.Widgets() {
				seen[w.ID] = true
				if _, ok := ds[w.ID]; !ok {
					t.Errorf("%s: widget %s (%s) has no Datadog definition", m, w.ID, d.ID)
				}
			}
		}
		for id := range ds {
			if !seen[id] {
				t.Errorf("%s: definition %s is of no catalogue widget", m, id)
			}
		}
	}
}

// TestDashboardsFollowTheSeed: order, titles, sections and template
// variables.
func TestDashboardsFollowTheSeed(t *testing.T) {
	for _, m := range sources() {
		ds, err := Dashboards(m)
		if err != nil {
			t.Fatal(err)
		}
		titles := func(ws []Widget) []string {
			var out []string
			for _, w := range ws {
				out = append(out, w.Definition.Title)
			}
			return out
		}
		if len(ds) != 2 || ds[0].ID != "leadership" || ds[1].ID != "engineering" {
			t.Fatalf("%s: dashboards %v", m, ds)
		}
		lead, eng := ds[0].Doc, ds[1].Doc
		want := []string{"Number of Jobs", "Success Rate", "Failure Rate", "Number of Pods Failed", "Number of Pods Failed due to OOM",
			"Number of Container Restarts", "Number of Pods Failed due to Crash Loop Back-Off Errors", "Number of Pending Pods"}
		if got := titles(lead.Widgets); !reflect.DeepEqual(got, want) {
			t.Errorf("%s leadership widgets:\n got %q\nwant %q", m, got, want)
		}
		if len(eng.Widgets) != 2 || eng.Widgets[0].Definition.Title != "Overview" || len(eng.Widgets[0].Definition.Widgets) != 15 ||
			eng.Widgets[1].Definition.Title != "Detailed Pod/Container Information" || len(eng.Widgets[1].Definition.Widgets) != 11 {
			t.Errorf("%s engineering: want groups Overview (15) and Detailed Pod/Container Information (11), got %d groups", m, len(eng.Widgets))
		}
		for _, d := range ds {
			var names []string
			for _, v := range d.Doc.TemplateVariables {
				names = append(names, v.Name)
			}
			if got := strings.Join(names, ","); got != "kube_cluster_name,kube_namespace,kube_cronjob" || d.Doc.LayoutType != "ordered" {
				t.Errorf("%s %s: template variables %s, layout %s", m, d.ID, got, d.Doc.LayoutType)
			}
			if !strings.Contains(d.Doc.Description, d.Tag) {
				t.Errorf("%s %s: description lacks its tag %s", m, d.ID, d.Tag)
			}
		}
	}
}

// TestGolden pins the exported files; go test -update rewrites them.
func TestGolden(t *testing.T) {
	for _, m := range sources() {
		dir := t.TempDir()
		files, err := Export(dir, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 3 {
			t.Errorf("%s: exported %v, want 2 dashboards and the monitors", m, files)
		}
		for _, f := range files {
			got, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", string(m), filepath.Base(f))
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create the golden files)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run go test ./internal/datadog/ -update and review the diff", filepath.Base(f), golden)
			}
		}
	}
}

// TestDecodesIntoTheClientsModels: every golden file decodes into the
// official client's types with nothing unparsed (the client keeps unknown
// fields in AdditionalProperties, unknown enum values in UnparsedObject),
// and encodes back to the same
// JSON (so no field was dropped as unknown).
func TestDecodesIntoTheClientsModels(t *testing.T) {
	for _, m := range sources() {
		for _, name := range []string{"leadership.json", "engineering.json", "monitors.json"} {
			b, err := os.ReadFile(filepath.Join("testdata", string(m), name))
			if err != nil {
				t.Fatal(err)
			}
			var docs []json.RawMessage
			if name == "monitors.json" {
				if err := json.Unmarshal(b, &docs); err != nil {
					t.Fatal(err)
				}
				if len(docs) != 5 {
					t.Errorf("%s: %d monitors, want 5", m, len(docs))
				}
			} else {
				docs = []json.RawMessage{b}
			}
			for i, doc := range docs {
				var v any = &datadogV1.Dashboard{}
				if name == "monitors.json" {
					v = &datadogV1.Monitor{}
				}
				if err := json.Unmarshal(doc, v); err != nil {
					t.Fatalf("%s/%s[%d]: %v", m, name, i, err)
				}
				for _, p := range unparsed(reflect.ValueOf(v), "") {
					t.Errorf("%s/%s[%d]: unparsed %s", m, name, i, p)
				}
				again, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				var a, w any
				if err := json.Unmarshal(again, &a); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(doc, &w); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(a, w) {
					t.Errorf("%s/%s[%d]: the client's model does not give back the same JSON:\n%s", m, name, i, again)
				}
			}
		}
	}
}

// unparsed returns the paths of every non-empty UnparsedObject (unknown
// enum values and union members) and AdditionalProperties (unknown fields)
// under v.
func unparsed(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return unparsed(v.Elem(), path)
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			fv := v.Field(i)
			if f.Name == "UnparsedObject" || f.Name == "AdditionalProperties" {
				if !fv.IsZero() && !(fv.Kind() == reflect.Map && fv.Len() == 0) {
					out = append(out, path+"."+f.Name)
				}
				continue
			}
			out = append(out, unparsed(fv, path+"."+f.Name)...)
		}
		return out
	case reflect.Slice, reflect.Array:
		var out []string
		for i := range v.Len() {
			out = append(out, unparsed(v.Index(i), path+"["+string(rune('0'+i%10))+"]")...)
		}
		return out
	case reflect.Map:
		var out []string
		for _, k := range v.MapKeys() {
			out = append(out, unparsed(v.MapIndex(k), path+"."+k.String())...)
		}
		return out
	}
	return nil
}

// TestUnparsedFindsUnknownFields: the check above can fail.
func TestUnparsedFindsUnknownFields(t *testing.T) {
	for _, doc := range []string{
		`{"title":"x","layout_type":"ordered","widgets":[{"definition":{"type":"query_value","requests":[],"bogus":1}}]}`,
		`{"title":"x","layout_type":"sideways","widgets":[]}`,
		`{"title":"x","layout_type":"ordered","widgets":[{"definition":{"type":"no_such_widget"}}]}`,
	} {
		var d datadogV1.Dashboard
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatal(err)
		}
		if len(unparsed(reflect.ValueOf(&d), "")) == 0 {
			t.Errorf("nothing unparsed found in %s", doc)
		}
	}
}
