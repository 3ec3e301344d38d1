package sim

import (
	"testing"
	"time"
)

// BenchmarkAdvanceWeek is the demo backfill: seven days of the default
// fleet in one call.
func BenchmarkAdvanceWeek(b *testing.B) {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	ops := 0
	for b.Loop() {
		s := New(Config{Cluster: "bench", Fleet: DefaultFleet(), Seed: 1, Start: start})
		ops = len(s.Advance(start.Add(7 * 24 * time.Hour)))
	}
	b.ReportMetric(float64(ops), "ops")
}

// BenchmarkAdvanceWeekHourly is the same week consumed an hour at a time,
// the ops of each hour dropped once read.
func BenchmarkAdvanceWeekHourly(b *testing.B) {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	ops := 0
	for b.Loop() {
		s := New(Config{Cluster: "bench", Fleet: DefaultFleet(), Seed: 1, Start: start})
		ops = 0
		for h := 1; h <= 7*24; h++ {
			ops += len(s.Advance(start.Add(time.Duration(h) * time.Hour)))
		}
	}
	b.ReportMetric(float64(ops), "ops")
}
