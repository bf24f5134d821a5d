package pingxx

import (
	"fmt"
	"log/slog"
	"strings"
)

// Secrets never print. A Config or a *Client handed to fmt (any verb, %#v
// and %+v included) or to slog shows which key is configured (its mode
// prefix) and whether a private key is set, never the key or the PEM.

// redactedKey shows what kind of secret key is configured without any of its
// secret part.
func redactedKey(key string) string {
	for _, p := range []string{"sk_test_", "sk_live_", "rk_test_", "rk_live_"} {
		if strings.HasPrefix(key, p) {
			return p + "****"
		}
	}
	if key == "" {
		return ""
	}
	return "****"
}

// redactedPEM says whether a private key is configured.
func redactedPEM(pem []byte) string {
	if len(pem) == 0 {
		return ""
	}
	return "[redacted]"
}

// String describes the configuration without its secret key or private key.
func (c Config) String() string {
	return fmt.Sprintf("pingxx.Config{SecretKey:%q AppID:%q PrivateKeyPEM:%q Signer:%t BaseURL:%q MaxRetries:%d RetryBackoff:%s}",
		redactedKey(c.SecretKey), c.AppID, redactedPEM(c.PrivateKeyPEM), c.Signer != nil, c.BaseURL, c.MaxRetries, c.RetryBackoff)
}

// GoString is String, so that %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format prints String under every verb, so that no verb (%d, %x, %+v…)
// reaches the fields.
func (c Config) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue gives slog the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret_key", redactedKey(c.SecretKey)),
		slog.String("app_id", c.AppID),
		slog.String("private_key", redactedPEM(c.PrivateKeyPEM)),
		slog.Bool("signer", c.Signer != nil),
		slog.String("base_url", c.BaseURL),
	)
}

// mode names the client's Ping++ mode.
func (c *Client) mode() string {
	if c.livemode {
		return "live"
	}
	return "test"
}

// String describes the client without its key.
func (c *Client) String() string {
	if c == nil {
		return "pingxx.Client(nil)"
	}
	return fmt.Sprintf("pingxx.Client{%s, app %s, %s}", c.base, c.appID, c.mode())
}

// GoString is String, so that %#v redacts too.
func (c *Client) GoString() string { return c.String() }

// Format prints String under every verb.
func (c *Client) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue gives slog the client without its key.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("pingxx.Client(nil)")
	}
	return slog.GroupValue(
		slog.String("base_url", c.base),
		slog.String("app_id", c.appID),
		slog.String("mode", c.mode()),
		slog.Bool("signed", c.signer != nil),
	)
}

// formatRedacted writes s for any verb: quoted for %q, as is otherwise.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = fmt.Sprintf("%q", s)
	}
	fmt.Fprint(f, s)
}

// maskBasic replaces the credentials of every "Basic <credentials>" in s
// (any case) with asterisks: Ping++ and proxies echo the Authorization
// header, whose Basic credentials are the base64 of the secret key.
func maskBasic(s string) string {
	lower := strings.ToLower(s)
	if !strings.Contains(lower, "basic") {
		return s
	}
	var b strings.Builder
	from := 0
	for {
		i := strings.Index(lower[from:], "basic")
		if i < 0 {
			b.WriteString(s[from:])
			return b.String()
		}
		i += from + len("basic")
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == ':' || s[j] == '=') {
			j++
		}
		k := j
		for k < len(s) && isBase64(s[k]) {
			k++
		}
		b.WriteString(s[from:j])
		b.WriteString(strings.Repeat("*", k-j))
		from = k
	}
}

func isBase64(b byte) bool {
	return isAlnum(b) || b == '+' || b == '/' || b == '=' || b == '-' || b == '_'
}
