package query

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/batchlens/batchlens/internal/dashboard"
)

// Dashboard is a computed dashboard: the body of
// GET /api/v1/dashboards/{id}. Its JSON is part of the API and stays stable:
//
//	{
//	  "id": "leadership", "title": "Leadership",
//	  "from": "2025-06-01T11:00:00Z", "to": "2025-06-01T12:00:00Z", // RFC 3339 UTC, ms when not whole; [from, to)
//	  "step_seconds": 60,
//	  "filters": {"cluster": "", "namespace": "", "cronjob": ""},   // "" = all
//	  "sections": [{"id": "main", "title": "Overview", "widgets": [
//	    {"id": "jobs", "title": "Number of Jobs", "kind": "value", "unit": "",
//	     "description": "…", "available": true,
//	     "value": 42,                                                // number or null
//	     "series": [{"name": "jobs", "points": [[1748775600, 3], …]}]},
//	    {"id": "pods_bad_phase", "kind": "timeseries", …,
//	     "series": [{"name": "Pending", …}, {"name": "Failed", …}],
//	     "values": {"Pending": 2, "Failed": 5}},
//	    {"id": "top_cronjobs", "kind": "toplist", …,
//	     "rows": [{"cluster": "prod", "namespace": "ds", "cronjob": "etl", "value": 12}, …]},
//	    {"id": "events", "kind": "events", …, "total": 17,
//	     "events": [{"time": "…", "cluster": "prod", "type": "Warning", "reason": "BackOff", "message": "…",
//	                 "namespace": "ds", "involved_kind": "Pod", "involved_name": "etl-1-x",
//	                 "involved_uid": "…", "count": 3}, …]},
//	    {"id": "cpu_by_cronjob", "kind": "timeseries", "unit": "cores", …,
//	     "series": [{"name": "ml/train", "points": [[1748775600, 0.5], …]}, …], "values": {"ml/train": 0.4},
//	     "series_info": [{"name": "ml/train", "cluster": "prod", "namespace": "ml", "cronjob": "train"}, …]},
//	    {"id": "cpu_by_pod", "kind": "timeseries", …, "series": [{"name": "train-1-x", "points": […]}],
//	     "series_info": [{"name": "train-1-x", "pod": "train-1-x", …, "request": 0.5, "limit": null}]},
//	    {"id": "cronjob_resources", "kind": "table", …, "table": {
//	     "columns": [{"id": "cpu_avg", "title": "CPU avg", "unit": "cores"}, …],
//	     "rows": [{"cluster": "prod", "namespace": "ml", "cronjob": "train", "cells": {"cpu_avg": 0.4, …},
//	               "oom_risk": false}]}},
//	    {"id": "memory_by_cronjob", …, "available": false, "reason": "batchlens may not read …"}
//	  ]}]
//	}
//
// Every widget has id, title, kind, unit ("", "%", "cores", "bytes" or
// "bytes/s"), description and available. A widget with available false has
// nothing else but, when it is unavailable for now, a "reason".
// Otherwise, by kind:
//
//   - value: "value", a number or null (a rate with nothing finished), and
//     "series" with one series of one point per bucket;
//   - timeseries: "series", and "values" (one number per series name) where
//     the widget has a single figure per series;
//   - toplist: "rows", most first, possibly [];
//   - events: "events", newest first, possibly [], and "total";
//   - table: "table" with "columns" and "rows", possibly [].
//
// Resource usage widgets (timeseries) also have "series_info".
//
// A point is [unix_seconds, number|null] at the start of its bucket; the
// seconds may carry a millisecond fraction. Buckets are step_seconds wide
// from "from"; the last one may be shorter. null in a series means no
// figure: a rate in a bucket where nothing finished, or the Pending gauge in
// a bucket that has not begun yet.
type Dashboard struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	StepSeconds int64     `json:"step_seconds"`
	Filters     Filters   `json:"filters"`
	Sections    []Section `json:"sections"`
}

// Filters echoes the filters a dashboard was computed with.
type Filters struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	CronJob   string `json:"cronjob"`
}

// Section is a computed section of a Dashboard.
type Section struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Widgets []Widget `json:"widgets"`
}

// Widget is a computed widget. Which of the optional fields are set depends
// on its kind; see Dashboard. Absent fields are left out of the JSON.
type Widget struct {
	ListWidget

	Value  *Number           `json:"value,omitzero"`
	Series []Series          `json:"series,omitzero"`
	Values map[string]Number `json:"values,omitzero"`
	Rows   []Row             `json:"rows,omitzero"`
	Events []Event           `json:"events,omitzero"`
	Total  *int64            `json:"total,omitzero"`
	Table  *Table            `json:"table,omitzero"`
	// SeriesInfo: resource usage widgets only.
	SeriesInfo []SeriesInfo `json:"series_info,omitzero"`
}

// Series is a named list of points, one per bucket.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// SeriesInfo says whose usage the series of the same name of a resource
// usage widget shows, and for by-pod widgets the pod's request and limit
// (null when it sets none) where the widget shows them. The "other" series
// of by-CronJob widgets has none.
type SeriesInfo struct {
	Name      string  `json:"name"`
	Cluster   string  `json:"cluster"`
	Namespace string  `json:"namespace"`
	CronJob   string  `json:"cronjob"`
	Pod       string  `json:"pod,omitempty"`
	Request   *Number `json:"request,omitzero"`
	Limit     *Number `json:"limit,omitzero"`
}

// Table is the body of a table widget: its columns, and one row per
// CronJob with a cell per column id.
type Table struct {
	Columns []Column   `json:"columns"`
	Rows    []TableRow `json:"rows"`
}

// Column is one column of a Table; Unit as a widget's.
type Column struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Unit  string `json:"unit"`
}

// TableRow is one CronJob's row of a Table.
type TableRow struct {
	Cluster   string            `json:"cluster"`
	Namespace string            `json:"namespace"`
	CronJob   string            `json:"cronjob"`
	Cells     map[string]Number `json:"cells"`
	OOMRisk   bool              `json:"oom_risk"`
}

// Point is a bucket's figure, JSON [unix_seconds, number|null] with T the
// start of the bucket.
type Point struct {
	T time.Time
	V Number
}

// Row is one row of a top list.
type Row struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	CronJob   string `json:"cronjob"`
	Value     int64  `json:"value"`
}

// Event is one Kubernetes event; Time is its last occurrence.
type Event struct {
	Time         time.Time `json:"time"`
	Cluster      string    `json:"cluster"`
	Type         string    `json:"type"`
	Reason       string    `json:"reason"`
	Message      string    `json:"message"`
	Namespace    string    `json:"namespace"`
	InvolvedKind string    `json:"involved_kind"`
	InvolvedName string    `json:"involved_name"`
	InvolvedUID  string    `json:"involved_uid"`
	Count        int32     `json:"count"`
}

// Number is a figure that may be missing: JSON null when not Valid.
type Number struct {
	V     float64
	Valid bool
}

// Num is the valid Number v.
func Num(v float64) Number { return Number{V: v, Valid: true} }

// MarshalJSON writes the number, or null when it is not valid or finite.
func (n Number) MarshalJSON() ([]byte, error) {
	if !n.Valid || math.IsNaN(n.V) || math.IsInf(n.V, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, n.V, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number or null.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number{}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("number: %w", err)
	}
	*n = Num(v)
	return nil
}

// MarshalJSON writes [unix_seconds, number|null].
func (p Point) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	b = strconv.AppendFloat(b, float64(p.T.UnixMilli())/1000, 'f', -1, 64)
	b = append(b, ',')
	v, _ := p.V.MarshalJSON()
	b = append(b, v...)
	return append(b, ']'), nil
}

// UnmarshalJSON reads [unix_seconds, number|null].
func (p *Point) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("point: %w", err)
	}
	if len(raw) != 2 {
		return fmt.Errorf("point: %d elements, want 2", len(raw))
	}
	var secs float64
	if err := json.Unmarshal(raw[0], &secs); err != nil {
		return fmt.Errorf("point time: %w", err)
	}
	var v Number
	if err := v.UnmarshalJSON(raw[1]); err != nil {
		return err
	}
	*p = Point{T: time.UnixMilli(int64(math.Round(secs * 1000))).UTC(), V: v}
	return nil
}

// List is the body of GET /api/v1/dashboards: every dashboard's layout,
// without numbers.
//
//	{"dashboards": [{"id": "leadership", "title": "Leadership", "sections": [
//	  {"id": "main", "title": "Overview", "widgets": [
//	    {"id": "jobs", "title": "Number of Jobs", "kind": "value", "unit": "",
//	     "description": "…", "available": true}, …]}]}, …]}
type List struct {
	Dashboards []ListDashboard `json:"dashboards"`
}

// ListDashboard is one dashboard of a List.
type ListDashboard struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	Sections []ListSection `json:"sections"`
}

// ListSection is one section of a ListDashboard.
type ListSection struct {
	ID      string       `json:"id"`
	Title   string       `json:"title"`
	Widgets []ListWidget `json:"widgets"`
}

// ListWidget is one widget of a ListSection, and the head of every computed
// Widget.
type ListWidget struct {
	ID          string         `json:"id"`
	Title       string         `json:"title"`
	Kind        dashboard.Kind `json:"kind"`
	Unit        string         `json:"unit"`
	Description string         `json:"description"`
	Available   bool           `json:"available"`
	// Reason says why a widget that is defined is not available now
	// (resource usage when the kubelets' stats cannot be read).
	Reason string `json:"reason,omitempty"`
}

// head is the part of a widget's JSON that comes from its definition.
func head(def dashboard.Widget) ListWidget {
	return ListWidget{ID: def.ID, Title: def.Title, Kind: def.Kind, Unit: def.Unit,
		Description: def.Description, Available: def.Available}
}
