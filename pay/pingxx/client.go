package pingxx

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// DefaultBaseURL is Ping++'s API root; test and live mode share it and are
// told apart by the secret key.
const DefaultBaseURL = "https://api.pingxx.com/v1"

// Defaults of Config.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetries   = 2
	DefaultRetryBackoff = 100 * time.Millisecond
)

// version is this client's version, sent in the User-Agent.
const version = "0.1.0"

// userAgent identifies the client to Ping++.
const userAgent = "payorder/" + version + " (+pingpp-go types)"

// maxRetryBackoff caps one wait between attempts.
const maxRetryBackoff = 2 * time.Second

// Config configures a Client. SecretKey and AppID are required; every other
// zero value works.
type Config struct {
	// SecretKey is the Ping++ secret key, sk_test_… or sk_live_…, sent with
	// HTTP Basic authentication. It never appears in logs or errors.
	SecretKey string
	// AppID is the Ping++ app (app_…): the app[id] of list queries and the
	// AppID of charge parameters that leave it empty.
	AppID string
	// PrivateKeyPEM is the merchant's RSA private key (PKCS#1 or PKCS#8
	// PEM). When set, every request is signed (API.md §7.1).
	PrivateKeyPEM []byte
	// Signer signs every request instead of PrivateKeyPEM, for a key that
	// stays in a KMS or an HSM, or a faster RSA implementation. Its Public
	// key must be RSA: the merchant key whose public half is in the Ping++
	// dashboard. It is asked for RSA PKCS#1 v1.5 signatures of SHA-256
	// digests (opts crypto.SHA256), as *rsa.PrivateKey makes them. Set
	// PrivateKeyPEM or Signer, not both.
	Signer crypto.Signer
	// BaseURL is the API root including /v1; default DefaultBaseURL. Tests
	// point it at pingpptest.
	BaseURL string
	// HTTPClient sends the requests; default one with DefaultTimeout.
	HTTPClient *http.Client
	// Logger receives one debug line per attempt and a warning per retry,
	// never a key, signature, body or credential; default: no logging.
	Logger *slog.Logger
	// MaxRetries bounds the retries after a first attempt: 0 means
	// DefaultMaxRetries, negative means none.
	MaxRetries int
	// RetryBackoff is the first wait between attempts, doubled each time,
	// ±50% jitter, capped at 2s; default DefaultRetryBackoff.
	RetryBackoff time.Duration
	// Now gives the time for request timestamps and for counting the
	// idempotency window of retried creates; default time.Now.
	Now func() time.Time
	// MeterProvider receives the latency of every request to Ping++ and
	// the count of retries (by route and status code); nil records none.
	// Nothing global is read or set.
	MeterProvider metric.MeterProvider
	// TracerProvider receives a client span per API call, with its retries
	// as events; nil records none. Nothing global is read or set.
	TracerProvider trace.TracerProvider
}

// Client talks to the Ping++ API with its own key, app, HTTP client and
// logger. It is safe for concurrent use. It never reads or writes pingpp-go's
// package globals.
type Client struct {
	key        string
	appID      string
	livemode   bool
	signer     crypto.Signer // nil: requests are not signed
	base       string        // scheme://host/path without trailing slash
	http       *http.Client
	log        *slog.Logger
	maxRetries int
	backoff    time.Duration
	now        func() time.Time
	tel        *telemetry
}

// NewClient checks cfg and returns a Client. It fails on an empty or
// malformed secret key, an empty app id, a private key that is not RSA
// PKCS#1 or PKCS#8 PEM, a Signer whose key is not RSA or that comes with a
// private key, and a base URL that is not absolute http(s).
func NewClient(cfg Config) (*Client, error) {
	livemode, err := checkKey(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.AppID) == "" {
		return nil, errors.New("pingxx: config: AppID is required")
	}
	c := &Client{
		key:        cfg.SecretKey,
		appID:      cfg.AppID,
		livemode:   livemode,
		http:       cfg.HTTPClient,
		log:        cfg.Logger,
		maxRetries: cfg.MaxRetries,
		backoff:    cfg.RetryBackoff,
		now:        cfg.Now,
	}
	switch {
	case len(cfg.PrivateKeyPEM) > 0 && cfg.Signer != nil:
		return nil, errors.New("pingxx: config: set PrivateKeyPEM or Signer, not both")
	case len(cfg.PrivateKeyPEM) > 0:
		if c.signer, err = ParsePrivateKey(cfg.PrivateKeyPEM); err != nil {
			return nil, fmt.Errorf("pingxx: config: PrivateKeyPEM: %w", err)
		}
	case cfg.Signer != nil:
		if _, ok := cfg.Signer.Public().(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("pingxx: config: Signer: its key is %T, not RSA", cfg.Signer.Public())
		}
		c.signer = cfg.Signer
	}
	if c.base, err = checkBaseURL(orDefault(cfg.BaseURL, DefaultBaseURL)); err != nil {
		return nil, err
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.backoff <= 0 {
		c.backoff = DefaultRetryBackoff
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.tel, err = newTelemetry(cfg.MeterProvider, cfg.TracerProvider); err != nil {
		return nil, fmt.Errorf("pingxx: config: metrics: %w", err)
	}
	return c, nil
}

// checkKey validates a secret key's form and tells test from live mode.
func checkKey(key string) (livemode bool, err error) {
	var rest string
	switch {
	case key == "":
		return false, errors.New("pingxx: config: SecretKey is required")
	case strings.HasPrefix(key, "sk_live_"):
		livemode, rest = true, key[len("sk_live_"):]
	case strings.HasPrefix(key, "sk_test_"):
		rest = key[len("sk_test_"):]
	default:
		return false, errors.New("pingxx: config: SecretKey must start with sk_test_ or sk_live_")
	}
	if rest == "" {
		return false, errors.New("pingxx: config: SecretKey has nothing after its prefix")
	}
	for i := 0; i < len(rest); i++ {
		if !isAlnum(rest[i]) {
			return false, errors.New("pingxx: config: SecretKey may hold only letters and digits after its prefix")
		}
	}
	return livemode, nil
}

// checkBaseURL returns the base URL without a trailing slash.
func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("pingxx: config: BaseURL is not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("pingxx: config: BaseURL %q must be an absolute http or https URL", redactURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("pingxx: config: BaseURL %q must not have a query, fragment or user", redactURL(u))
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func redactURL(u *url.URL) string {
	v := *u
	v.User = nil
	v.RawQuery = ""
	v.Fragment = ""
	return v.String()
}

// AppID returns the Ping++ app id the client works for.
func (c *Client) AppID() string { return c.appID }

// Livemode reports whether the client's key is a live key (sk_live_), so its
// charges move real money.
func (c *Client) Livemode() bool { return c.livemode }
