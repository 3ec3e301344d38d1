//go:build e2e

package e2e

import (
	"testing"
	"time"
)

func TestForbidden(t *testing.T) {
	year := time.Now().UTC().Year()
	w := [][2]time.Time{{time.Date(year, 11, 27, 21, 4, 10, 0, time.UTC), time.Date(year, 11, 27, 21, 4, 16, 0, time.UTC)}}
	logs := "I1127 21:04:00.000000   1 x.go:1] fine\n" +
		`E1127 21:04:14.706307   31159 reflector.go:227] "Failed to watch" err="pods is forbidden: User cannot watch"` + "\n" +
		`E1127 21:05:14.706307   31159 reflector.go:227] "Failed to watch" err="pods is forbidden: User cannot watch"` + "\n" +
		`time=2026-11-27T21:04:12Z level=WARN msg="list pods: Unauthorized"` + "\n"
	bad, excused := forbidden(logs, w)
	if len(bad) != 2 || excused != 1 {
		t.Errorf("forbidden = %q, %d excused; want the 21:05 klog line and the slog line, 1 excused", bad, excused)
	}
}
