package pingpptest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yianpay/payorder/pay/pingxx"
)

// DefaultSecretKey is the secret key the emulator accepts when Config.SecretKeys
// is empty: the public demo key of Ping++'s SDK examples.
const DefaultSecretKey = "sk_test_ibbTe5jLGCi5rzfH4OqPW9KC"

// DefaultAppID is the app id the emulator knows when Config.AppIDs is empty.
const DefaultAppID = "app_1Gqj58ynP0mHeX1q"

// maxRequestBody caps request bodies; a charge request is a few kilobytes.
const maxRequestBody = 1 << 20

// Config configures an emulator. Its zero value works: test key
// DefaultSecretKey, app DefaultAppID, no request signing, no webhooks.
type Config struct {
	// SecretKeys are the accepted API keys, sk_test_… (test mode) or
	// sk_live_… (live mode charges). Default: DefaultSecretKey.
	SecretKeys []string
	// AppIDs are the known app ids. Default: DefaultAppID.
	AppIDs []string
	// MerchantPublicKeyPEM, when set, switches request signature checks on:
	// POST requests must carry a valid Pingplusplus-Signature, and a
	// signature sent on any other request must be valid.
	MerchantPublicKeyPEM []byte
	// WebhookURL receives events by POST; empty means events are only stored.
	WebhookURL string
	// WebhookPrivateKeyPEM signs webhooks (Ping++'s own key). Default:
	// WebhookPrivateKeyPEM of this package.
	WebhookPrivateKeyPEM []byte
	// WebhookClient delivers webhooks. Default: a client with a 10 s timeout.
	WebhookClient *http.Client
	// RetryScale multiplies Ping++'s redelivery intervals (2m, 10m, 10m, 1h,
	// 2h, 6h, 15h); 0.001 turns two minutes into 120 ms. Default 1.
	RetryScale float64
	// ManualWebhooks, when true, stores events without sending them; tests
	// then send them with Deliver, in any order and as often as they like.
	ManualWebhooks bool
	// EmptyObjectsAsArrays sends an empty extra, metadata or credential as
	// [] instead of {}, as real Ping++ responses sometimes do (API.md §4.4),
	// to test clients' tolerance.
	EmptyObjectsAsArrays bool
	// SignResponses adds X-Pingplusplus-Signature (the body signed with the
	// webhook key) to every answer, as Ping++ does; off by default because
	// an RSA signature per answer triples the cost of a request.
	SignResponses bool
	// Now is the clock for created, time_expire, time_paid and the
	// idempotency window. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per webhook attempt. Default: discard.
	Logger *slog.Logger
}

// Stats are the emulator's counters.
type Stats struct {
	// Requests counts every request the emulator received, faults included.
	Requests int64
	// ChargeRequests counts the create requests that reached Ping++'s charge
	// logic (authenticated and not answered by a fault first), whatever
	// their outcome: how often a client asked for a charge.
	ChargeRequests int64
	// ChargesCreated counts new charges; a repeated order_no answered with
	// an existing charge does not count.
	ChargesCreated int64
	// InFlight is the number of requests being served now.
	InFlight int64
	// MaxInFlight is the most requests ever served at once.
	MaxInFlight int64
}

// Emulator is the Ping++ emulator as an http.Handler, with all its state.
// It serves /v1/... and /notify/... and answers anything else with Ping++'s
// 404 envelope; mount it at the root of its own server or mux:
//
//	mux.Handle("/v1/", emu)
//	mux.Handle("/notify/", emu)
//
// Bodies are capped at 1 MiB.
type Emulator struct {
	cfg        Config
	now        func() time.Time
	log        *slog.Logger
	keys       map[string]bool
	apps       map[string]bool
	merchant   *rsa.PublicKey
	webhookKey *rsa.PrivateKey
	client     *http.Client
	retryScale float64
	mux        *http.ServeMux

	// done is closed by Close; ctx is cancelled with it.
	done           chan struct{}
	ctx            context.Context
	cancel         context.CancelFunc
	closing        sync.Once
	workers        sync.WaitGroup
	requests       atomic.Int64
	chargeRequests atomic.Int64
	created        atomic.Int64
	inFlight       atomic.Int64
	maxInFl        atomic.Int64

	mu         sync.Mutex
	closed     bool
	charges    map[string]*Charge
	order      []string            // charge ids in creation order
	byOrderNo  map[orderKey]string // latest charge per order_no and channel
	refundCh   map[string]string   // refund id to charge id
	events     map[string]*eventState
	eventOrder []string
	faults     []*faultState
	deliveries []Delivery
	changed    chan struct{} // closed and replaced when deliveries grow
}

// orderKey identifies the charges that share an idempotency window.
type orderKey struct {
	app, orderNo, channel string
	livemode              bool
}

// New returns an emulator configured by cfg. It fails only on unusable keys
// in cfg. Call Close to stop webhook deliveries.
func New(cfg Config) (*Emulator, error) {
	e := &Emulator{
		cfg:        cfg,
		now:        cfg.Now,
		log:        cfg.Logger,
		keys:       make(map[string]bool),
		apps:       make(map[string]bool),
		client:     cfg.WebhookClient,
		retryScale: cfg.RetryScale,
		done:       make(chan struct{}),
		charges:    make(map[string]*Charge),
		byOrderNo:  make(map[orderKey]string),
		refundCh:   make(map[string]string),
		events:     make(map[string]*eventState),
		changed:    make(chan struct{}),
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.client == nil {
		e.client = &http.Client{Timeout: 10 * time.Second}
	}
	if e.retryScale <= 0 {
		e.retryScale = 1
	}
	keys := cfg.SecretKeys
	if len(keys) == 0 {
		keys = []string{DefaultSecretKey}
	}
	for _, k := range keys {
		e.keys[k] = true
	}
	apps := cfg.AppIDs
	if len(apps) == 0 {
		apps = []string{DefaultAppID}
	}
	for _, a := range apps {
		e.apps[a] = true
	}
	if len(cfg.MerchantPublicKeyPEM) > 0 {
		k, err := pingxx.ParsePublicKey(cfg.MerchantPublicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("pingpptest: merchant public key: %w", err)
		}
		e.merchant = k
	}
	whPEM := cfg.WebhookPrivateKeyPEM
	if len(whPEM) == 0 {
		whPEM = []byte(WebhookPrivateKeyPEM)
	}
	k, err := pingxx.ParsePrivateKey(whPEM)
	if err != nil {
		return nil, fmt.Errorf("pingpptest: webhook private key: %w", err)
	}
	e.webhookKey = k
	e.routes()
	return e, nil
}

// Close stops webhook deliveries, releases requests held by FaultNoAnswer
// and waits for the emulator's goroutines. It is safe to call more than once.
func (e *Emulator) Close() {
	e.shutdown()
	e.workers.Wait()
}

// shutdown signals every goroutine and held request to stop.
func (e *Emulator) shutdown() {
	e.closing.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		close(e.done)
		e.cancel()
	})
}

// ServeHTTP serves the Ping++ API.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	n := e.inFlight.Add(1)
	defer e.inFlight.Add(-1)
	for {
		m := e.maxInFl.Load()
		if n <= m || e.maxInFl.CompareAndSwap(m, n) {
			break
		}
	}
	e.mux.ServeHTTP(w, r)
}

// Stats returns the emulator's counters.
func (e *Emulator) Stats() Stats {
	return Stats{
		Requests:       e.requests.Load(),
		ChargeRequests: e.chargeRequests.Load(),
		ChargesCreated: e.created.Load(),
		InFlight:       e.inFlight.Load(),
		MaxInFlight:    e.maxInFl.Load(),
	}
}

// WebhookPublicKey returns the public half of the webhook signing key, for
// verifying the emulator's webhooks.
func (e *Emulator) WebhookPublicKey() *rsa.PublicKey { return &e.webhookKey.PublicKey }

// Server is an Emulator listening on a loopback port, shaped like
// httptest.Server.
type Server struct {
	*Emulator
	// URL is the base URL of the form http://ipaddr:port, with no trailing
	// slash. The API is under URL + "/v1" (APIBase).
	URL string
	srv *httptest.Server
}

// NewServer starts an emulator on a loopback port. It panics, as
// httptest.NewServer does, only when it cannot listen or when cfg holds an
// unparsable key, both programming errors in a test.
func NewServer(cfg Config) *Server {
	e, err := New(cfg)
	if err != nil {
		panic(err)
	}
	s := &Server{Emulator: e, srv: httptest.NewServer(e)}
	s.URL = s.srv.URL
	return s
}

// Listen starts an emulator on addr (such as "127.0.0.1:8001"), for example
// servers and programs that need a fixed address.
func Listen(cfg Config, addr string) (*Server, error) {
	e, err := New(cfg)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pingpptest: listen: %w", err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	return &Server{Emulator: e, srv: srv, URL: srv.URL}, nil
}

// APIBase returns the base URL of the API, URL + "/v1", the value to
// configure as a Ping++ client's base URL.
func (s *Server) APIBase() string { return s.URL + "/v1" }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close releases held requests, shuts the server down, and stops and waits
// for webhook deliveries.
func (s *Server) Close() {
	s.shutdown()
	s.srv.Close()
	s.Emulator.Close()
}

// Errors of the emulator's methods.
var (
	// ErrNotFound means no charge, refund or event has the given id.
	ErrNotFound = errors.New("pingpptest: not found")
	// ErrAlreadyPaid means the charge is paid already; no event is sent.
	ErrAlreadyPaid = errors.New("pingpptest: charge already paid")
	// ErrReversed means the charge was reversed (closed) and cannot be paid.
	ErrReversed = errors.New("pingpptest: charge reversed")
	// ErrExpired means the charge's time_expire has passed.
	ErrExpired = errors.New("pingpptest: charge expired")
	// ErrRefundDone means the refund has succeeded or failed already.
	ErrRefundDone = errors.New("pingpptest: refund already finished")
)
