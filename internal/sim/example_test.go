package sim_test

import (
	"fmt"
	"time"

	"github.com/batchlens/batchlens/internal/sim"
	"github.com/batchlens/batchlens/internal/store"
)

func Example() {
	start := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	s := sim.New(sim.Config{Cluster: "demo", Fleet: sim.DefaultFleet(), Seed: 1, Start: start})
	for _, op := range s.Advance(start.Add(30 * time.Minute)) {
		_ = op // feed op.Verb and op.Object to what is being tested
	}
	hour := store.Buckets{From: start, To: start.Add(30 * time.Minute), Step: 10 * time.Minute}
	fmt.Println(s.Truth().Count(store.RunsCreated, hour, store.Filter{Namespace: "fraud"}))
	// Output: [1 2 2]
}
