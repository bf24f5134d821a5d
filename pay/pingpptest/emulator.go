package pingpptest

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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
	// RefundOutcome is how a test-mode refund finishes by itself: it
	// succeeds (the zero value, RefundSucceeds) with a refund.succeeded
	// event, fails (RefundFails) as a channel refusal does, or stays
	// pending (RefundStaysPending) until SucceedRefund, FailRefund or the
	// control API finish it. Live-mode refunds always wait for those.
	RefundOutcome RefundOutcome
	// RefundDelay is how long, on the emulator's clock, a test-mode refund
	// stays pending before it finishes by itself. 0 finishes it within its
	// create request, whose answer then shows the outcome, as Ping++'s
	// answer to a refund the channel refused at once does
	// (status "failed", HTTP 200).
	RefundDelay time.Duration
	// Now is the clock for created, time_expire, time_paid, refund delays
	// and the idempotency window; Advance (or the control API) moves the
	// emulator's clock ahead of it. Default: time.Now.
	Now func() time.Time
	// Logger receives one line per webhook attempt. Default: discard.
	Logger *slog.Logger
}

// Stats are the emulator's counters, in the JSON of GET /_emulator/stats.
type Stats struct {
	// Requests counts every request the emulator received, faults included,
	// except those of the control API.
	Requests int64 `json:"requests"`
	// ChargeRequests counts the create requests that reached Ping++'s charge
	// logic (authenticated and not answered by a fault first), whatever
	// their outcome: how often a client asked for a charge.
	ChargeRequests int64 `json:"create_requests"`
	// ChargesCreated counts new charges; a repeated order_no answered with
	// an existing charge does not count.
	ChargesCreated int64 `json:"charges_created"`
	// RefundRequests counts the refund create requests that reached Ping++'s
	// refund logic (authenticated and not answered by a fault first),
	// whatever their outcome: how often a client asked for a refund.
	RefundRequests int64 `json:"refund_requests"`
	// RefundsCreated counts new refunds.
	RefundsCreated int64 `json:"refunds_created"`
	// InFlight is the number of requests being served now.
	InFlight int64 `json:"in_flight"`
	// MaxInFlight is the most requests ever served at once.
	MaxInFlight int64 `json:"max_in_flight"`
}

// Emulator is the Ping++ emulator as an http.Handler, with all its state.
// It serves /v1/..., /notify/..., the test payment page /mock.php and the
// control API /_emulator/..., and answers anything else with Ping++'s 404
// envelope; mount it at the root of its own server or mux:
//
//	mux.Handle("/v1/", emu)
//	mux.Handle("/notify/", emu)
//	mux.Handle("/mock.php", emu)
//	mux.Handle("/_emulator/", emu)
//
// Bodies are capped at 1 MiB.
type Emulator struct {
	cfg        Config
	clock      func() time.Time
	log        *slog.Logger
	keys       map[string]bool
	apps       map[string]bool
	appList    []string // apps in configuration order, for messages
	merchant   *rsa.PublicKey
	webhookKey *rsa.PrivateKey
	client     *http.Client
	retryScale float64
	mux        *http.ServeMux
	control    *http.ServeMux
	mockTmpl   *template.Template

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
	refundsMade    atomic.Int64
	refundRequests atomic.Int64
	// offset is how far Advance moved the clock, in nanoseconds.
	offset atomic.Int64

	mu         sync.Mutex
	closed     bool
	charges    map[string]*Charge
	order      []string              // charge ids in creation order
	byOrderNo  map[orderKey]string   // latest charge per order_no and channel
	refundCh   map[string]string     // refund id to charge id
	plans      map[string]refundPlan // how each pending refund finishes
	policy     RefundPolicy          // how new test-mode refunds finish
	advanced   chan struct{}         // closed and replaced when the clock moves
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
		clock:      cfg.Now,
		log:        cfg.Logger,
		keys:       make(map[string]bool),
		apps:       make(map[string]bool),
		client:     cfg.WebhookClient,
		retryScale: cfg.RetryScale,
		done:       make(chan struct{}),
		charges:    make(map[string]*Charge),
		byOrderNo:  make(map[orderKey]string),
		refundCh:   make(map[string]string),
		plans:      make(map[string]refundPlan),
		policy:     RefundPolicy{Outcome: cfg.RefundOutcome, Delay: cfg.RefundDelay},
		advanced:   make(chan struct{}),
		events:     make(map[string]*eventState),
		changed:    make(chan struct{}),
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if e.clock == nil {
		e.clock = time.Now
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
	e.appList = apps
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
	if e.mockTmpl, err = parseMockTemplate(); err != nil {
		return nil, fmt.Errorf("pingpptest: test payment page: %w", err)
	}
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

// ServeHTTP serves the Ping++ API, the test payment page and, under
// /_emulator/, the control API.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, controlPrefix) {
		e.control.ServeHTTP(w, r)
		return
	}
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
		RefundRequests: e.refundRequests.Load(),
		RefundsCreated: e.refundsMade.Load(),
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
	// ErrChargeFailed means the charge was failed (Fail) and cannot be paid.
	ErrChargeFailed = errors.New("pingpptest: charge failed")
)

// Reset forgets every charge, refund, event, delivery and fault, zeroes the
// counters, puts the clock back to Config.Now and the refund policy back to
// the configuration: the emulator is as new, on the same address and keys.
// Deliveries already on their way finish; their events are gone.
func (e *Emulator) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.charges = make(map[string]*Charge)
	e.order = nil
	e.byOrderNo = make(map[orderKey]string)
	e.refundCh = make(map[string]string)
	e.plans = make(map[string]refundPlan)
	e.policy = RefundPolicy{Outcome: e.cfg.RefundOutcome, Delay: e.cfg.RefundDelay}
	e.events = make(map[string]*eventState)
	e.eventOrder = nil
	e.faults = nil
	e.deliveries = nil
	e.offset.Store(0)
	close(e.advanced) // waiting refunds see their plans gone
	e.advanced = make(chan struct{})
	for _, c := range []*atomic.Int64{&e.requests, &e.chargeRequests, &e.created, &e.refundsMade, &e.refundRequests} {
		c.Store(0)
	}
	e.maxInFl.Store(e.inFlight.Load())
}
