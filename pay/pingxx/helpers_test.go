package pingxx

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readFile returns a testdata file.
func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// chargeSamples returns the real charges S1..S6 by name.
func chargeSamples(tb testing.TB) map[string][]byte {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "charges", "*.json"))
	if err != nil || len(names) != 6 {
		tb.Fatalf("charge samples: %v, %d files", err, len(names))
	}
	out := map[string][]byte{}
	for _, n := range names {
		out[strings.TrimSuffix(filepath.Base(n), ".json")] = readFile(tb, "charges/"+filepath.Base(n))
	}
	return out
}

// webhookSample is a signed webhook: body, signature and Ping++'s key.
type webhookSample struct {
	name      string
	body      []byte
	signature string
	key       *rsa.PublicKey
}

// webhookSamples returns W1..W3.
func webhookSamples(tb testing.TB) []webhookSample {
	tb.Helper()
	var out []webhookSample
	for _, n := range []string{"W1", "W2", "W3"} {
		key, err := ParsePublicKey(readFile(tb, "webhooks/"+n+"/public_key.pem"))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, webhookSample{
			name:      n,
			body:      readFile(tb, "webhooks/"+n+"/body.json"),
			signature: string(readFile(tb, "webhooks/"+n+"/signature.txt")),
			key:       key,
		})
	}
	return out
}

// eventCharges returns data.object of every charge webhook sample (W1, W2,
// W4; W3 is an account summary).
func eventCharges(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	for _, w := range webhookSamples(tb) {
		if w.name != "W3" {
			out[w.name] = dataObject(tb, w.body)
		}
	}
	out["W4"] = dataObject(tb, readFile(tb, "webhooks/W4.json"))
	return out
}

func dataObject(tb testing.TB, event []byte) []byte {
	tb.Helper()
	var e struct {
		Data struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(event, &e); err != nil {
		tb.Fatal(err)
	}
	return e.Data.Object
}

// compacted is what a re-encoding that keeps everything but whitespace gives.
func compacted(tb testing.TB, b []byte) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// encodeNoEscape marshals v as json.Encoder does with HTML escaping off.
func encodeNoEscape(tb testing.TB, v any) string {
	tb.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func testKey(tb testing.TB, name string) []byte {
	tb.Helper()
	return readFile(tb, "keys/"+name+".pem")
}
