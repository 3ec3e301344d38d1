package kube

import (
	"context"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// Reconnect delays: the first retry after 100 ms, doubling to at most 1 s.
// A refusal (401, 403) is retried for at most refusalGrace: a starting API
// server refuses everyone until its RBAC caches sync (about a second), while
// a refusal that lasts is missing rights and goes to client-go, which logs it.
const (
	reconnectFirst = 100 * time.Millisecond
	reconnectMax   = time.Second
	refusalGrace   = 10 * time.Second
)

// reconnect calls f until it succeeds, fails with an error that is not
// transient, or ctx ends. Transient errors are the ones of an API server
// that is restarting or briefly overloaded: refused or reset connections,
// 429, 503 and timeouts, and for refusalGrace a refusal.
//
// client-go's reflector would back off on these exponentially, up to 30 s
// with jitter, and then relist: for a controller that is only late, for a
// ledger it is a window in which a Job can be created, finish and be deleted
// by its TTL unseen. The end-to-end test restarts the API server and lost
// such runs to a 10-second window. Retrying here, promptly and quietly,
// keeps the reflector out of its backoff, so it relists (or resumes) as soon
// as the API server answers.
func reconnect[T any](ctx context.Context, log *slog.Logger, what string, f func() (T, error)) (T, error) {
	delay := reconnectFirst
	var failingSince, refusedSince time.Time
	for {
		v, err := f()
		refused := apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err)
		if refused && refusedSince.IsZero() {
			refusedSince = time.Now()
		}
		retry := transient(err) || refused && time.Since(refusedSince) < refusalGrace
		if err == nil || !retry || ctx.Err() != nil {
			if err == nil && !failingSince.IsZero() {
				log.Info("API server reachable again", "call", what, "after", time.Since(failingSince).Round(time.Millisecond))
			}
			return v, err
		}
		if failingSince.IsZero() {
			failingSince = time.Now()
			log.Warn("API server unreachable, retrying", "call", what, "err", err)
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(delay):
		}
		delay = min(2*delay, reconnectMax)
	}
}

func transient(err error) bool {
	return utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
}
