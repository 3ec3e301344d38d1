package query

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/batchlens/batchlens/internal/store"
)

// Limits on what a request may ask for.
const (
	MaxRange     = 400 * 24 * time.Hour // longest range a request may ask for
	MaxBuckets   = 120                  // Step keeps a range at or under this many buckets, when it can
	MaxFilterLen = 253                  // longest filter value, in characters (a DNS subdomain)
	DefaultLast  = "24h"                // the range when a request gives neither last nor from
)

// Params is what a dashboard request asks for: a half-open range [From, To)
// at millisecond precision, in UTC, and filters.
type Params struct {
	From   time.Time
	To     time.Time
	Filter store.Filter
}

// ParamError is a problem with a request's parameters: the client's fault,
// answered with 400.
type ParamError struct {
	Param string // the parameter at fault, or "" for the request as a whole
	Msg   string
}

func (e *ParamError) Error() string {
	if e.Param == "" {
		return e.Msg
	}
	return fmt.Sprintf("parameter %s: %s", quote(e.Param), e.Msg)
}

func paramErr(param, format string, a ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, a...)}
}

// ParseParams reads a dashboard request's query parameters:
//
//   - last=15m|1h|24h|7d|30d: the range [now-last, now);
//   - or from=RFC3339 and optional to=RFC3339 (default now);
//   - neither: last=24h;
//   - cluster, namespace, cronjob: exact-name filters (empty = all), each at
//     most MaxFilterLen characters of valid UTF-8 without control characters.
//
// An empty last, from or to counts as not given. last together with from or
// to, to without from, an unknown last, an unparsable time, an empty range
// (from ≥ to), a range over MaxRange, a parameter given twice and an
// unknown parameter are all errors of type *ParamError.
func ParseParams(v url.Values, now time.Time) (Params, error) {
	known := []string{"last", "from", "to", "cluster", "namespace", "cronjob"}
	var unknown []string
	for k := range v {
		if !slices.Contains(known, k) {
			unknown = append(unknown, quote(k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return Params{}, &ParamError{Msg: "unknown parameter " + strings.Join(unknown, ", ") +
			" (known: " + strings.Join(known, ", ") + ")"}
	}
	for _, k := range known {
		if len(v[k]) > 1 {
			return Params{}, paramErr(k, "given more than once")
		}
	}

	p := Params{Filter: store.Filter{
		Cluster:   v.Get("cluster"),
		Namespace: v.Get("namespace"),
		CronJob:   v.Get("cronjob"),
	}}

	now = ms(now)
	last, from, to := v.Get("last"), v.Get("from"), v.Get("to")
	switch {
	case last != "" && (from != "" || to != ""):
		return Params{}, paramErr("last", "cannot be combined with from or to")
	case from == "" && to != "":
		return Params{}, paramErr("from", "is required with to")
	case from == "":
		if last == "" {
			last = DefaultLast
		}
		d, ok := lastRange(last)
		if !ok {
			return Params{}, paramErr("last", "%s is not one of 15m, 1h, 24h, 7d, 30d", quote(last))
		}
		p.From, p.To = now.Add(-d), now
	default:
		var err error
		if p.From, err = parseTime("from", from); err != nil {
			return Params{}, err
		}
		p.To = now
		if to != "" {
			if p.To, err = parseTime("to", to); err != nil {
				return Params{}, err
			}
		}
	}
	if err := p.validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}

// validate checks p, also when it was not made by ParseParams.
func (p Params) validate() error {
	for _, f := range []struct{ name, value string }{
		{"cluster", p.Filter.Cluster}, {"namespace", p.Filter.Namespace}, {"cronjob", p.Filter.CronJob},
	} {
		if err := checkName(f.name, f.value); err != nil {
			return err
		}
	}
	if !p.From.Before(p.To) {
		return paramErr("from", "must be before to (%s ≥ %s)", p.From.Format(time.RFC3339Nano), p.To.Format(time.RFC3339Nano))
	}
	if p.To.Sub(p.From) > MaxRange {
		return paramErr("from", "range of %s is longer than 400 days", p.To.Sub(p.From))
	}
	return nil
}

func lastRange(s string) (time.Duration, bool) {
	switch s {
	case "15m":
		return 15 * time.Minute, true
	case "1h":
		return time.Hour, true
	case "24h":
		return 24 * time.Hour, true
	case "7d":
		return 7 * 24 * time.Hour, true
	case "30d":
		return 30 * 24 * time.Hour, true
	}
	return 0, false
}

func parseTime(param, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, paramErr(param, "%s is not an RFC 3339 time such as 2006-01-02T15:04:05Z", quote(s))
	}
	return ms(t), nil
}

func checkName(param, s string) error {
	if !utf8.ValidString(s) {
		return paramErr(param, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > MaxFilterLen {
		return paramErr(param, "is %d characters long, more than %d", n, MaxFilterLen)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return paramErr(param, "contains a control character")
	}
	return nil
}

// ms is t in UTC at the store's millisecond precision.
func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// quote quotes client input for an error message, cut to a readable length.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// Step is the bucket width for a range of length d: the smallest of 1m, 5m,
// 15m, 30m, 1h, 3h, 6h, 12h and 1d that cuts d into at most MaxBuckets
// buckets, or 1d when none does (ranges over 120 days).
func Step(d time.Duration) time.Duration {
	steps := [...]time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	for _, s := range steps {
		n := d / s
		if d%s != 0 {
			n++
		}
		if n <= MaxBuckets {
			return s
		}
	}
	return steps[len(steps)-1]
}
