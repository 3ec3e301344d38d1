package query

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/batchlens/batchlens/internal/store"
)

// testNow has sub-millisecond digits so that truncation shows.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

func TestParseParamsGood(t *testing.T) {
	now := testNow.Truncate(time.Millisecond)
	day := 24 * time.Hour
	f := func(raw string, from, to time.Time, filt store.Filter) {
		t.Helper()
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		p, err := ParseParams(v, testNow)
		if err != nil {
			t.Errorf("%q: %v", raw, err)
			return
		}
		if !p.From.Equal(from) || !p.To.Equal(to) || p.Filter != filt {
			t.Errorf("%q = [%s, %s) %+v; want [%s, %s) %+v", raw, p.From, p.To, p.Filter, from, to, filt)
		}
		if p.From.Location() != time.UTC || p.To.Location() != time.UTC {
			t.Errorf("%q: times not in UTC", raw)
		}
	}
	none := store.Filter{}
	f("", now.Add(-day), now, none)
	f("last=", now.Add(-day), now, none)
	f("last=15m", now.Add(-15*time.Minute), now, none)
	f("last=1h", now.Add(-time.Hour), now, none)
	f("last=24h", now.Add(-day), now, none)
	f("last=7d", now.Add(-7*day), now, none)
	f("last=30d", now.Add(-30*day), now, none)
	f("from=2025-06-01T10:00:00Z", time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), now, none)
	f("from=2025-06-01T10:00:00Z&to=2025-06-01T11:00:00Z",
		time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC), none)
	f("from=2025-06-01T12:00:00%2B02:00&to=2025-06-01T11:00:00Z",
		time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC), none)
	f("from=2025-06-01T10:00:00.123456789Z&to=2025-06-01T11:00:00.5Z",
		time.Date(2025, 6, 1, 10, 0, 0, 123000000, time.UTC), time.Date(2025, 6, 1, 11, 0, 0, 500000000, time.UTC), none)
	f("from=2025-06-01T11:00:00Z&to=2025-06-02T00:00:00Z", // to in the future is fine
		time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC), time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), none)
	f("from=2024-05-27T12:00:00Z&to=2025-07-01T12:00:00Z", // exactly 400 days
		time.Date(2024, 5, 27, 12, 0, 0, 0, time.UTC), time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC), none)
	f("last=1h&cluster=prod&namespace=ds&cronjob=nightly-etl", now.Add(-time.Hour), now,
		store.Filter{Cluster: "prod", Namespace: "ds", CronJob: "nightly-etl"})
	f("cluster=&namespace=&cronjob=", now.Add(-day), now, none)
	f("cluster=caf%C3%A9+%E2%9C%93", now.Add(-day), now, store.Filter{Cluster: "café ✓"})
	long := strings.Repeat("é", MaxFilterLen) // 253 characters, 506 bytes
	f("cronjob="+url.QueryEscape(long), now.Add(-day), now, store.Filter{CronJob: long})
}

func TestParseParamsBad(t *testing.T) {
	f := func(raw, param, msg string) {
		t.Helper()
		v, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		_, err = ParseParams(v, testNow)
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("%.80q: err = %v, want a *ParamError", raw, err)
			return
		}
		if pe.Param != param || !strings.Contains(pe.Error(), msg) {
			t.Errorf("%.80q: err = %q (param %q), want param %q and %q", raw, pe.Error(), pe.Param, param, msg)
		}
		if len(pe.Error()) > 300 {
			t.Errorf("%.80q: error message is %d bytes long", raw, len(pe.Error()))
		}
	}
	f("last=2h", "last", "not one of")
	f("last=15M", "last", "not one of")
	f("last=-1h", "last", "not one of")
	f("last=+1h", "last", "not one of")
	f("last=1h%00", "last", "not one of")
	f("last="+strings.Repeat("9", 1<<20), "last", "not one of")
	f("last=1h&from=2025-06-01T10:00:00Z", "last", "cannot be combined")
	f("last=1h&to=2025-06-01T10:00:00Z", "last", "cannot be combined")
	f("to=2025-06-01T10:00:00Z", "from", "required")
	f("from=yesterday", "from", "RFC 3339")
	f("from=2025-06-01", "from", "RFC 3339")
	f("from=2025-06-01T10:00:00", "from", "RFC 3339")
	f("from=2025-06-01+10:00:00Z", "from", "RFC 3339")
	f("from=2025-13-01T00:00:00Z", "from", "RFC 3339")
	f("from=2025-06-01T10:00:00Z&to=2025-06-31T00:00:00Z", "to", "RFC 3339")
	f("from=1748772000", "from", "RFC 3339")
	f("from=99999-01-01T00:00:00Z", "from", "RFC 3339")
	f("from="+strings.Repeat("2", 1<<20), "from", "RFC 3339")
	f("from=2025-06-01T11:00:00Z&to=2025-06-01T10:00:00Z", "from", "must be before to")
	f("from=2025-06-01T10:00:00Z&to=2025-06-01T10:00:00Z", "from", "must be before to")
	f("from=2025-06-01T10:00:00.0001Z&to=2025-06-01T10:00:00.0009Z", "from", "must be before to") // equal at ms precision
	f("from=2025-06-02T00:00:00Z", "from", "must be before to")                                   // to defaults to now
	f("from=2024-05-26T12:00:00Z&to=2025-07-01T12:00:00Z", "from", "longer than 400 days")        // 401 days
	f("from=2024-05-27T11:59:59.999Z&to=2025-07-01T12:00:00Z", "from", "longer than 400 days")
	f("from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", "from", "longer than 400 days")
	f("foo=1", "", `unknown parameter "foo"`)
	f("last=1h&Last=1h", "", `unknown parameter "Last"`)
	f("b=1&a=2", "", `unknown parameter "a", "b"`)
	f("%ff=1", "", `unknown parameter "\xff"`)
	f(strings.Repeat("k", 1<<20)+"=1", "", "unknown parameter")
	f("cluster=a&cluster=b", "cluster", "more than once")
	f("last=1h&last=1h", "last", "more than once")
	f("cluster=a%00b", "cluster", "control character")
	f("namespace=%0A", "namespace", "control character")
	f("cronjob=x%7F", "cronjob", "control character")
	f("cronjob=x%C2%85", "cronjob", "control character") // U+0085, a C1 control
	f("cluster=%ff", "cluster", "not valid UTF-8")
	f("namespace=%C3", "namespace", "not valid UTF-8")
	f("cronjob="+strings.Repeat("a", MaxFilterLen+1), "cronjob", "more than 253")
	f("cluster="+strings.Repeat("a", 1<<20), "cluster", "more than 253")
}

func TestParamsValidate(t *testing.T) {
	from := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	for _, p := range []Params{
		{},
		{From: from, To: from},
		{From: from, To: from.Add(-time.Minute)},
		{From: from, To: from.Add(MaxRange + time.Millisecond)},
		{From: from, To: from.Add(time.Hour), Filter: store.Filter{Cluster: "\x00"}},
	} {
		var pe *ParamError
		if err := p.validate(); !errors.As(err, &pe) {
			t.Errorf("validate(%+v) = %v, want a *ParamError", p, err)
		}
	}
}

func TestStep(t *testing.T) {
	h, d := time.Hour, 24*time.Hour
	f := func(r, want time.Duration) {
		t.Helper()
		if got := Step(r); got != want {
			t.Errorf("Step(%s) = %s, want %s", r, got, want)
		}
		b := store.Buckets{From: testNow, To: testNow.Add(r), Step: Step(r)}
		if r <= 120*d && b.N() > MaxBuckets {
			t.Errorf("Step(%s) gives %d buckets", r, b.N())
		}
	}
	f(time.Millisecond, time.Minute)
	f(time.Minute, time.Minute)
	f(15*time.Minute, time.Minute)
	f(h, time.Minute)
	f(2*h, time.Minute) // exactly 120 buckets
	f(2*h+time.Millisecond, 5*time.Minute)
	f(10*h, 5*time.Minute)
	f(10*h+time.Second, 15*time.Minute)
	f(d, 15*time.Minute)
	f(30*h, 15*time.Minute)
	f(30*h+time.Second, 30*time.Minute)
	f(60*h, 30*time.Minute)
	f(60*h+time.Minute, h)
	f(5*d, h)
	f(5*d+time.Second, 3*h)
	f(7*d, 3*h)
	f(15*d, 3*h)
	f(15*d+time.Second, 6*h)
	f(30*d, 6*h)
	f(30*d+time.Second, 12*h)
	f(60*d, 12*h)
	f(60*d+time.Second, d)
	f(120*d, d)
	f(121*d, d) // no step gives ≤ 120 buckets: 1d, the largest
	f(MaxRange, d)
}
