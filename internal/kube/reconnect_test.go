package kube

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestReconnect(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no"))
	cases := []struct {
		name      string
		errs      []error // returned by successive calls; then success
		wantCalls int
		wantErr   error
	}{
		{"success at once", nil, 1, nil},
		{"refused while the API server restarts", []error{refused, refused, refused}, 4, nil},
		{"initialising watch cache (429) and 503", []error{apierrors.NewTooManyRequests("storage is (re)initializing", 1),
			apierrors.NewServiceUnavailable("down")}, 3, nil},
		{"a starting API server refuses for a moment", []error{forbidden, forbidden}, 3, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			v, err := reconnect(context.Background(), slog.New(slog.DiscardHandler), "list pods", func() (int, error) {
				calls++
				if calls <= len(tc.errs) {
					return 0, tc.errs[calls-1]
				}
				return 7, nil
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) || (err == nil && v != 7) {
				t.Errorf("reconnect: %d calls, %v, %v; want %d calls, %v", calls, v, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
	t.Run("a lasting refusal goes to client-go", func(t *testing.T) {
		calls := 0
		start := time.Now()
		_, err := reconnect(context.Background(), slog.New(slog.DiscardHandler), "list pods", func() (int, error) {
			calls++
			return 0, forbidden
		})
		if !apierrors.IsForbidden(err) || time.Since(start) < refusalGrace {
			t.Errorf("after %d calls in %s: %v; want the refusal back after %s", calls, time.Since(start), err, refusalGrace)
		}
	})
	t.Run("gives up when the context ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := reconnect(ctx, slog.New(slog.DiscardHandler), "watch pods", func() (int, error) { return 0, refused })
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("reconnect after the context ended = %v, want the last error", err)
		}
	})
}
