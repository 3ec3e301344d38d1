package ledger

import (
	"strings"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/batchlens/batchlens/internal/model"
)

// clean makes s safe to store: valid UTF-8 (invalid bytes become U+FFFD), no
// NUL bytes, and at most model.MaxMessage bytes, cut at a rune boundary and
// marked with "…". It does not escape HTML: rendering as text is the
// reader's job.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= model.MaxMessage {
		return s
	}
	const ellipsis = "…"
	cut := model.MaxMessage - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// ts converts an API time to UTC; the zero/nil time stays zero.
func ts(t *metav1.Time) time.Time {
	if t == nil || t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// minTime returns the earlier of two times, ignoring zero times.
func minTime(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

// maxTime returns the later of two times, ignoring zero times.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
