package pingxx

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestSecretsNeverPrint prints a Config and a *Client under every fmt verb
// and through slog's text and JSON handlers: neither the secret key nor any
// part of the private key appears.
func TestSecretsNeverPrint(t *testing.T) {
	pemKey := testKey(t, "MerchantPrivateKeyPEM")
	cfg := Config{SecretKey: testSecretKey, AppID: testAppID, PrivateKeyPEM: pemKey, BaseURL: "http://127.0.0.1:1/v1"}
	client, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		strings.TrimPrefix(testSecretKey, "sk_test_"),
		fmt.Sprintf("%x", strings.TrimPrefix(testSecretKey, "sk_test_")),
		strings.TrimSpace(string(pemKey))[40:80],
		fmt.Sprintf("%x", pemKey[40:80]),
		fmt.Sprint(pemKey[40:48]), // %v of the []byte: decimal bytes
	}
	type wrapper struct {
		Cfg    Config
		Client *Client
	}
	var out []string
	for _, v := range []any{cfg, &cfg, client, wrapper{cfg, client}, []Config{cfg}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", v)
		out = append(out, text.String(), js.String())
	}
	for _, o := range out {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Errorf("printed %q contains secret %.12q…", o, s)
			}
		}
	}
	if got := fmt.Sprintf("%+v", cfg); !strings.Contains(got, "sk_test_****") || !strings.Contains(got, testAppID) || !strings.Contains(got, "[redacted]") {
		t.Errorf("%%+v = %q, want the key's mode, the app id and that a private key is set", got)
	}
}

// TestBasicCredentialsMasked: an upstream that echoes the Authorization
// header (Basic base64(key + ":")) does not put the key in an error.
func TestBasicCredentialsMasked(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte(testSecretKey + ":"))
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
		answer(w, 401, "unauthorized: Authorization: Basic "+basic+" and basic:"+basic)
	})
	_, err := c.RetrieveCharge(context.Background(), "ch_1")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if strings.Contains(err.Error(), basic[:16]) {
		t.Errorf("error %q holds the Basic credentials", err)
	}
	if !strings.Contains(e.Message, "Basic ****") {
		t.Errorf("message %q, want the credentials masked by asterisks", e.Message)
	}
	for in, want := range map[string]string{
		"x BASIC abc= y":  "x BASIC **** y",
		"no credentials":  "no credentials",
		"basic":           "basic",
		"Basic\tAb+/Cd==": "Basic\t********",
	} {
		if got := maskBasic(in); got != want {
			t.Errorf("maskBasic(%q) = %q, want %q", in, got, want)
		}
	}
}
