package pingxx

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseEventAcceptsEverySignedSample(t *testing.T) {
	for _, w := range webhookSamples(t) {
		t.Run(w.name, func(t *testing.T) {
			ev, err := ParseEvent(w.body, w.signature, w.key)
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if ev.ID == "" || ev.Type == "" || ev.Object != "event" || len(ev.Data.Object) == 0 {
				t.Errorf("event %+v", ev)
			}
			if got, want := encodeNoEscape(t, ev), compacted(t, w.body); got != want {
				t.Errorf("re-encoded:\n got %s\nwant %s", got, want)
			}
			if !bytes.Equal(ev.Raw(), w.body) {
				t.Error("Raw() differs from the payload")
			}
		})
	}
}

func TestParseEventDecodesW1(t *testing.T) {
	w := webhookSamples(t)[0]
	ev, err := ParseEvent(w.body, w.signature, w.key)
	if err != nil {
		t.Fatal(err)
	}
	want := Event{
		ID: "evt_eYa58Wd44Glerl8AgfYfd1sL", Object: "event", Type: "charge.succeeded",
		Created: 1434368075, Livemode: true, Request: "iar_Xc2SGjrbdmT0eeKWeCsvLhbL",
		Data: EventData{Object: dataObject(t, w.body)},
	}
	if diff := cmp.Diff(&want, ev, ignoreRaw); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	ch, err := ev.Charge()
	if err != nil {
		t.Fatal(err)
	}
	if ch.ID != "ch_bq9IHKnn6GnLzsS0swOujr4x" || !ch.Paid || ch.TimePaid != 1434368074 || ch.TransactionNo != "1014400031201506150354653857" {
		t.Errorf("charge %+v", ch)
	}
	if _, err := ev.Refund(); err == nil {
		t.Error("Refund() of a charge event = nil error")
	}
}

func TestEventObjectOfAnotherKind(t *testing.T) {
	w := webhookSamples(t)[2] // W3, account.summary.available
	ev, err := ParseEvent(w.body, w.signature, w.key)
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := ev.Charge(); err == nil || ch != nil {
		t.Errorf("Charge() of %s = %+v, nil error", ev.Type, ch)
	}
	if rf, err := ev.Refund(); err == nil || rf != nil {
		t.Errorf("Refund() of %s = %+v, nil error", ev.Type, rf)
	}
	if ev.Request != "" || ev.PendingWebhooks != 2 {
		t.Errorf("request %q pending %d, want \"\" and 2", ev.Request, ev.PendingWebhooks)
	}
}

// Any one-byte change to a signed body fails, at every position.
func TestParseEventRejectsEveryOneByteBodyChange(t *testing.T) {
	for _, w := range webhookSamples(t) {
		t.Run(w.name, func(t *testing.T) {
			body := bytes.Clone(w.body)
			for i := range body {
				orig := body[i]
				for _, b := range []byte{orig ^ 0x01, orig ^ 0x20} {
					body[i] = b
					if ev, err := ParseEvent(body, w.signature, w.key); !errors.Is(err, ErrBadSignature) {
						t.Fatalf("byte %d %q->%q: ParseEvent = %v, %v; want ErrBadSignature", i, orig, b, ev, err)
					}
				}
				body[i] = orig
			}
			// Adding or removing a byte, too.
			for _, p := range [][]byte{append(bytes.Clone(w.body), '\n'), w.body[:len(w.body)-1], append([]byte{' '}, w.body...)} {
				if _, err := ParseEvent(p, w.signature, w.key); !errors.Is(err, ErrBadSignature) {
					t.Errorf("length %d: err = %v, want ErrBadSignature", len(p), err)
				}
			}
		})
	}
}

// Any one-byte change to the signature fails, at every position, including
// changes base64's padding bits would hide from a lenient decoder.
func TestParseEventRejectsEveryOneByteSignatureChange(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for _, w := range webhookSamples(t) {
		t.Run(w.name, func(t *testing.T) {
			sig := []byte(w.signature)
			for i := range sig {
				orig := sig[i]
				next := alphabet[(strings.IndexByte(alphabet, orig)+1)%len(alphabet)]
				for _, b := range []byte{next, orig ^ 0x01, '=', '*'} {
					if b == orig {
						continue
					}
					sig[i] = b
					if _, err := ParseEvent(w.body, string(sig), w.key); !errors.Is(err, ErrBadSignature) {
						t.Fatalf("signature byte %d %q->%q: err = %v, want ErrBadSignature", i, orig, b, err)
					}
				}
				sig[i] = orig
			}
		})
	}
}

func TestParseEventErrors(t *testing.T) {
	w := webhookSamples(t)[0]
	webhookKey, err := ParsePrivateKey(testKey(t, "WebhookPrivateKeyPEM"))
	if err != nil {
		t.Fatal(err)
	}
	signed := func(payload string) (string, string) {
		sig, err := SignWebhook(webhookKey, []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		return payload, sig
	}
	tests := []struct {
		name    string
		payload string
		sig     string
		key     *rsa.PublicKey
		want    error
	}{
		{"ErrNoSignature", string(w.body), "", w.key, ErrNoSignature},
		{"ErrNoSignatureBlank", string(w.body), "  \t", w.key, ErrNoSignature},
		{"ErrBadSignatureWrongKey", string(w.body), w.signature, &webhookKey.PublicKey, ErrBadSignature},
		{"ErrBadSignatureNotBase64", string(w.body), "not base64!", w.key, ErrBadSignature},
		{"ErrBadSignatureEmptyBody", "", w.signature, w.key, ErrBadSignature},
		{"ErrEventTooLarge", strings.Repeat(" ", MaxEventBytes+1), w.signature, w.key, ErrEventTooLarge},
	}
	for name, payload := range map[string]string{
		"ErrMalformedEventNull":         `null`,
		"ErrMalformedEventEmpty":        ``,
		"ErrMalformedEventArray":        `[]`,
		"ErrMalformedEventHTML":         `<html></html>`,
		"ErrMalformedEventNoID":         `{"type":"charge.succeeded","data":{"object":{}}}`,
		"ErrMalformedEventNoType":       `{"id":"evt_1","data":{"object":{}}}`,
		"ErrMalformedEventNoData":       `{"id":"evt_1","type":"charge.succeeded"}`,
		"ErrMalformedEventDataString":   `{"id":"evt_1","type":"t","data":"x"}`,
		"ErrMalformedEventObjectList":   `{"id":"evt_1","type":"t","data":{"object":[]}}`,
		"ErrMalformedEventNotAnEvent":   `{"id":"ch_1","object":"charge","type":"t","data":{"object":{}}}`,
		"ErrMalformedEventBadCreated":   `{"id":"evt_1","type":"t","created":{},"data":{"object":{}}}`,
		"ErrMalformedEventTruncated":    `{"id":"evt_1","type":"t","data":{"object":{}}`,
		"ErrMalformedEventTrailingJunk": `{"id":"evt_1","type":"t","data":{"object":{}}}}`,
	} {
		p, s := signed(payload)
		tests = append(tests, struct {
			name    string
			payload string
			sig     string
			key     *rsa.PublicKey
			want    error
		}{name, p, s, &webhookKey.PublicKey, ErrMalformedEvent})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseEvent([]byte(tt.payload), tt.sig, tt.key)
			if !errors.Is(err, tt.want) || ev != nil {
				t.Fatalf("ParseEvent = %v, %v; want nil, %v", ev, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "pingxx: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	t.Run("NilKey", func(t *testing.T) {
		if ev, err := ParseEvent(w.body, w.signature, nil); err == nil || ev != nil {
			t.Errorf("ParseEvent with nil key = %v, %v; want an error", ev, err)
		}
	})
}

// Verification happens before decoding: a correctly signed event whose data
// would not decode still only fails after its signature checked out, and a
// wrongly signed malformed payload is ErrBadSignature, not ErrMalformedEvent.
func TestParseEventVerifiesBeforeDecoding(t *testing.T) {
	w := webhookSamples(t)[0]
	if _, err := ParseEvent([]byte("{not json"), w.signature, w.key); !errors.Is(err, ErrBadSignature) {
		t.Errorf("err = %v, want ErrBadSignature", err)
	}
}

func FuzzParseEvent(f *testing.F) {
	key, err := ParsePrivateKey(testKey(f, "WebhookPrivateKeyPEM"))
	if err != nil {
		f.Fatal(err)
	}
	for _, w := range webhookSamples(f) {
		f.Add(w.body, w.signature)
	}
	for _, b := range eventCharges(f) {
		f.Add(b, "")
	}
	f.Add([]byte(`{"id":"e","type":"t","data":{"object":[]}}`), "x")
	f.Fuzz(func(t *testing.T, payload []byte, sig string) {
		// Unsigned: must fail cleanly.
		if ev, err := ParseEvent(payload, sig, &key.PublicKey); err == nil {
			// Only possible if the fuzzer forged an RSA signature.
			t.Fatalf("ParseEvent accepted a payload the fuzzer signed: %+v", ev)
		} else if ev != nil {
			t.Fatalf("non-nil event with error %v", err)
		}
		// Signed: every decoding path runs on the fuzzed bytes.
		good, err := SignWebhook(key, payload)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := ParseEvent(payload, good, &key.PublicKey)
		if err != nil {
			if !errors.Is(err, ErrMalformedEvent) {
				t.Fatalf("signed payload: err = %v, want nil or ErrMalformedEvent", err)
			}
			return
		}
		_, _ = ev.Charge()
		_, _ = ev.Refund()
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("Marshal of a parsed event: %v", err)
		}
	})
}
