package pingxx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// MaxResponseBytes is the largest response body the Client reads; a larger
// 2xx body is ErrMalformedResponse.
const MaxResponseBytes = 1 << 20

// kind says what a retry of a request can do.
type kind int

const (
	// kindRead requests (GET) change nothing: any failure may be retried.
	kindRead kind = iota
	// kindCreate is POST /v1/charges: an identical body is answered with the
	// same charge inside the channel's idempotency window, and only there.
	kindCreate
	// kindWrite is any other write: retried only when it surely never left.
	kindWrite
	// kindRefund is POST /v1/charges/{id}/refunds: a write Ping++ has no
	// idempotency for, retried only when it surely never left, whose
	// unanswered send is ErrOutcomeUnknown.
	kindRefund
)

// request is one API call, resent byte for byte on retries.
type request struct {
	method string
	path   string // under the base URL, starting with "/"
	query  url.Values
	body   []byte // nil for GET
	key    string
	kind   kind
	window time.Duration // kindCreate: Ping++'s idempotency window for the channel
}

// result is what one attempt got.
type result struct {
	status int
	body   []byte
	// unsent is true when the request surely never reached Ping++ (the
	// connection failed before anything was written).
	unsent bool
	// oversized is true when the body exceeded MaxResponseBytes; body is
	// then nil.
	oversized bool
	err       error // transport error; status and body are then unset
}

// do runs r with retries and decodes a 2xx answer into v.
func (c *Client) do(ctx context.Context, r *request, v any) (err error) {
	var (
		firstSend time.Time // when the first attempt that may have reached Ping++ started
		unknown   bool      // an attempt may have been processed without a definite answer
		last      error
		attempts  int
		status    int // of the last attempt
	)
	ctx, span, route := c.tel.start(ctx, r)
	defer func() { c.tel.end(span, attempts, status, err) }()
	for {
		if err := ctx.Err(); err != nil {
			last = c.wrap(r, fmt.Errorf("not sent: %w", err), last)
			break
		}
		start, began := c.now(), time.Now()
		res := c.send(ctx, r)
		attempts++
		if !res.unsent && firstSend.IsZero() {
			firstSend = start
		}
		retry, err := c.judge(ctx, r, res, v)
		status = res.status
		c.tel.attempt(ctx, route, res, time.Since(began))
		c.log.LogAttrs(ctx, slog.LevelDebug, "pingxx request",
			slog.String("method", r.method), slog.String("path", r.path),
			slog.Int("attempt", attempts), slog.Int("status", res.status),
			slog.Duration("elapsed", time.Since(began)), slog.Bool("ok", err == nil))
		if err == nil {
			return nil
		}
		last = err
		if !res.unsent && !definite(res) {
			unknown = true
		}
		if !retry || attempts > c.maxRetries {
			break
		}
		wait := c.backoffFor(attempts - 1)
		if r.kind == kindCreate && unknown && c.now().Add(wait).Sub(firstSend) >= r.window/2 {
			// A resend now could land outside Ping++'s idempotency window and
			// create a second charge.
			break
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "pingxx retry",
			slog.String("method", r.method), slog.String("path", r.path),
			slog.Int("attempt", attempts), slog.Duration("wait", wait), slog.String("error", err.Error()))
		c.tel.retry(ctx, span, route, attempts, res.status, wait)
		if err := sleep(ctx, wait); err != nil {
			last = fmt.Errorf("pingxx: %s %s: %w while waiting to retry after: %w", r.method, r.path, err, last)
			break
		}
	}
	if r.kind == kindCreate && unknown {
		return fmt.Errorf("%w after %d attempt(s); look the charge up before charging again: %w", ErrOutcomeUnknown, attempts, last)
	}
	if r.kind == kindRefund && unknown {
		return fmt.Errorf("%w (refund) after %d attempt(s); list the charge's refunds before refunding again: %w", ErrOutcomeUnknown, attempts, last)
	}
	return last
}

// wrap adds the request to a context error, keeping an earlier cause.
func (c *Client) wrap(r *request, err, prev error) error {
	if prev != nil {
		return fmt.Errorf("pingxx: %s %s: %w after: %w", r.method, r.path, err, prev)
	}
	return fmt.Errorf("pingxx: %s %s: %w", r.method, r.path, err)
}

// definite reports whether an answer proves the request had no effect: a
// 4xx error from Ping++.
func definite(res result) bool {
	return res.err == nil && res.status >= 400 && res.status < 500
}

// judge turns an attempt's result into an error (nil on success, decoding
// into v) and says whether trying again is safe and useful.
func (c *Client) judge(ctx context.Context, r *request, res result, v any) (retry bool, err error) {
	canResend := r.kind != kindWrite && r.kind != kindRefund || res.unsent
	switch {
	case res.err != nil:
		// A cancelled or expired context ends the call; a client timeout or a
		// broken connection is worth another try.
		return canResend && ctx.Err() == nil, fmt.Errorf("pingxx: %s %s: %w", r.method, r.path, res.err)
	case res.status >= 200 && res.status < 300:
		if err := decodeBody(res, v); err != nil {
			return canResend, fmt.Errorf("pingxx: %s %s: %w", r.method, r.path, err)
		}
		return false, nil
	case res.status >= 500:
		return canResend, parseError(res.status, res.body)
	}
	return false, parseError(res.status, res.body)
}

// send makes one attempt.
func (c *Client) send(ctx context.Context, r *request) result {
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	// The transport reports through the trace whether it got as far as
	// writing the request. A transport that reports nothing (a custom
	// RoundTripper) leaves the outcome open: may have been sent.
	var dialing, wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		GetConn:      func(string) { dialing.Store(true) },
		WroteHeaders: func() { wrote.Store(true) },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.method, target, body)
	if err != nil {
		return result{unsent: true, err: errors.New("cannot build request: bad path or query")}
	}
	req.SetBasicAuth(r.key, "")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept-Language", "zh-CN")
	req.Header.Set("Accept", "application/json")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	if c.signer != nil {
		ts := strconv.FormatInt(c.now().Unix(), 10)
		sig, err := signWith(c.signer, RequestSigningString(r.body, req.URL.RequestURI(), ts))
		if err != nil {
			return result{unsent: true, err: err}
		}
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, sig)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return result{unsent: dialing.Load() && !wrote.Load(), err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return result{err: fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err)}
	}
	if len(b) > MaxResponseBytes {
		// Too big to be Ping++'s: judge it by status alone.
		return result{status: resp.StatusCode, oversized: true}
	}
	return result{status: resp.StatusCode, body: b}
}

// decodeBody decodes a 2xx answer into v, refusing anything that is not the
// expected object.
func decodeBody(res result, v any) error {
	status := res.status
	b := bytes.TrimSpace(res.body)
	malformed := func(why string) error {
		return fmt.Errorf("%w (HTTP %d): %s", ErrMalformedResponse, status, why)
	}
	switch {
	case res.oversized:
		return malformed(fmt.Sprintf("body exceeds %d bytes", MaxResponseBytes))
	case len(b) == 0:
		return malformed("empty body")
	case isNull(b):
		return malformed("body is null")
	case b[0] == '<':
		return malformed("HTML body")
	case b[0] != '{':
		return malformed("body is not a JSON object")
	}
	if v == nil {
		return nil
	}
	if err := decodeInto(b, v); err != nil {
		return fmt.Errorf("%w (HTTP %d): %w", ErrMalformedResponse, status, err)
	}
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoffFor returns the wait before retry n (0-based): RetryBackoff·2^n,
// ±50% jitter, capped.
func (c *Client) backoffFor(n int) time.Duration {
	d := c.backoff << min(n, 16)
	if d <= 0 || d > maxRetryBackoff {
		d = maxRetryBackoff
	}
	return min(time.Duration(float64(d)*(0.5+rand.Float64())), maxRetryBackoff)
}
