package datadog

// The JSON of Datadog's v1 Dashboards and Monitors APIs, as far as batchlens
// writes it. Every generated document decodes into the official client's
// datadogV1.Dashboard and datadogV1.Monitor without unknown fields (see
// the tests), so these types only name fields the API defines.

// Dashboard is a v1 dashboard with an ordered layout.
type Dashboard struct {
	Title             string             `json:"title"`
	Description       string             `json:"description"`
	LayoutType        string             `json:"layout_type"`
	ReflowType        string             `json:"reflow_type"`
	TemplateVariables []TemplateVariable `json:"template_variables"`
	Widgets           []Widget           `json:"widgets"`
}

// TemplateVariable is a dashboard filter over one tag.
type TemplateVariable struct {
	Name    string `json:"name"`
	Prefix  string `json:"prefix"`
	Default string `json:"default"`
}

// Widget is one widget; in an ordered layout it needs no position.
type Widget struct {
	Definition Definition `json:"definition"`
}

// Definition is the union of the widget definitions batchlens uses: group,
// query_value, timeseries, toplist, query_table and event_stream.
type Definition struct {
	Type        string    `json:"type"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"` // not on groups
	LayoutType  string    `json:"layout_type,omitempty"` // group
	Widgets     []Widget  `json:"widgets,omitempty"`     // group
	Requests    []Request `json:"requests,omitempty"`
	Precision   *int      `json:"precision,omitempty"`   // query_value
	CustomUnit  string    `json:"custom_unit,omitempty"` // query_value
	Query       string    `json:"query,omitempty"`       // event_stream
	EventSize   string    `json:"event_size,omitempty"`  // event_stream
}

// Request is a formula-and-functions request.
type Request struct {
	ResponseFormat string    `json:"response_format"` // scalar or timeseries
	Queries        []Query   `json:"queries"`
	Formulas       []Formula `json:"formulas"`
	DisplayType    string    `json:"display_type,omitempty"` // timeseries
}

// Query is a metrics query of a request.
type Query struct {
	DataSource string `json:"data_source"`
	Name       string `json:"name"`
	Query      string `json:"query"`
	Aggregator string `json:"aggregator,omitempty"` // scalar requests
}

// Formula combines a request's queries.
type Formula struct {
	Formula string `json:"formula"`
	Alias   string `json:"alias,omitempty"`
	Limit   *Limit `json:"limit,omitempty"`
}

// Limit keeps the first Count rows of a toplist or table.
type Limit struct {
	Count int64  `json:"count"`
	Order string `json:"order"`
}

// Monitor is a v1 metric monitor.
type Monitor struct {
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	Query    string         `json:"query"`
	Message  string         `json:"message"`
	Tags     []string       `json:"tags"`
	Priority int64          `json:"priority"`
	Options  MonitorOptions `json:"options"`
}

// MonitorOptions are the options batchlens sets.
type MonitorOptions struct {
	Thresholds        Thresholds `json:"thresholds"`
	NotifyNoData      bool       `json:"notify_no_data"`
	RequireFullWindow bool       `json:"require_full_window"`
	IncludeTags       bool       `json:"include_tags"`
	NewGroupDelay     int64      `json:"new_group_delay"`
}

// Thresholds of a monitor.
type Thresholds struct {
	Critical float64  `json:"critical"`
	Warning  *float64 `json:"warning,omitempty"`
}
