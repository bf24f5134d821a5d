// Package serve runs the example programs' HTTP servers: serve until the
// context ends, then shut down gracefully.
package serve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// shutdownTimeout bounds how long requests in flight may finish.
const shutdownTimeout = 10 * time.Second

// Timeouts bound how long a connection may hold the server. Zero fields take
// DefaultTimeouts' values.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included: a body that
	// stalls halfway is cut when it runs out.
	Read time.Duration
	// Write bounds the time from the end of the request headers to the end
	// of the answer; it must exceed the slowest handler (a Ping++ create
	// with its retries).
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next
	// request.
	Idle time.Duration
}

// DefaultTimeouts returns the timeouts Serve uses.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 2 * time.Minute, Idle: time.Minute}
}

func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = d.Read
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	return t
}

// maxHeaderBytes caps a request's headers.
const maxHeaderBytes = 64 << 10

// Serve serves h on l with DefaultTimeouts until ctx is done, then lets
// requests in flight finish, for at most ten seconds. It returns nil after a
// clean shutdown.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	return ServeTimeouts(ctx, l, h, Timeouts{})
}

// ServeTimeouts is Serve with the given timeouts.
func ServeTimeouts(ctx context.Context, l net.Listener, h http.Handler, t Timeouts) error {
	t = t.withDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
