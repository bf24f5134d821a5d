package pingxx

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// Header names of Ping++'s signatures.
const (
	// HeaderSignature carries the merchant's signature of a request (API.md §7.1).
	HeaderSignature = "Pingplusplus-Signature"
	// HeaderTimestamp carries the Unix time, in seconds, that the request signature covers.
	HeaderTimestamp = "Pingplusplus-Request-Timestamp"
	// HeaderWebhookSignature carries Ping++'s signature of a webhook body (API.md §8.2).
	HeaderWebhookSignature = "X-Pingplusplus-Signature"
)

// Signature errors. ParseEvent and VerifyRequest return them, wrapped.
var (
	// ErrNoSignature means the signature header was missing or empty.
	ErrNoSignature = errors.New("pingxx: no signature")
	// ErrBadSignature means the signature does not match the signed bytes and key.
	ErrBadSignature = errors.New("pingxx: bad signature")
)

// ParsePrivateKey parses an RSA private key from PEM, in PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") form. The error never
// contains key material.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("pingxx: private key: no PEM block found")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pingxx: private key: %q block is neither PKCS#1 nor PKCS#8 RSA", block.Type)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pingxx: private key: %T is not an RSA key", k)
	}
	return rk, nil
}

// ParsePublicKey parses an RSA public key from PEM, in PKIX ("PUBLIC KEY",
// the form of the Ping++ public key in the dashboard) or PKCS#1
// ("RSA PUBLIC KEY") form.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("pingxx: public key: no PEM block found")
	}
	if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pingxx: public key: %q block is neither PKIX nor PKCS#1", block.Type)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("pingxx: public key: %T is not an RSA key", k)
	}
	return rk, nil
}

// Sign returns base64(RSA-SHA256 PKCS#1 v1.5 signature of data): the form of
// both request signatures and webhook signatures.
func Sign(key *rsa.PrivateKey, data []byte) (string, error) { return signWith(key, data) }

// signWith is Sign with any signer of RSA PKCS#1 v1.5 signatures (an
// *rsa.PrivateKey, a KMS or HSM key).
func signWith(s crypto.Signer, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	sig, err := s.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("pingxx: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a base64 signature made by Sign. It returns ErrNoSignature for
// an empty signature and ErrBadSignature for any mismatch or malformed base64.
func Verify(key *rsa.PublicKey, data []byte, signature string) error {
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return ErrNoSignature
	}
	// Strict: a lenient decoder ignores the padding bits of the last
	// character, so two different signature strings would verify.
	sig, err := base64.StdEncoding.Strict().DecodeString(signature)
	if err != nil {
		return ErrBadSignature
	}
	sum := sha256.Sum256(data)
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return ErrBadSignature
	}
	return nil
}

// RequestSigningString is what a request signature covers (API.md §7.1): the
// raw body (empty for GET), the request URI as sent (path with /v1 and the
// encoded query), and the timestamp header's value.
func RequestSigningString(body []byte, requestURI, timestamp string) []byte {
	s := make([]byte, 0, len(body)+len(requestURI)+len(timestamp))
	s = append(s, body...)
	s = append(s, requestURI...)
	return append(s, timestamp...)
}

// SignRequest signs a request to Ping++ with the merchant's private key.
func SignRequest(key *rsa.PrivateKey, body []byte, requestURI, timestamp string) (string, error) {
	return Sign(key, RequestSigningString(body, requestURI, timestamp))
}

// VerifyRequest checks a request signature with the merchant's public key, as
// Ping++ does when request signing is switched on.
func VerifyRequest(key *rsa.PublicKey, body []byte, requestURI, timestamp, signature string) error {
	return Verify(key, RequestSigningString(body, requestURI, timestamp), signature)
}

// SignWebhook signs a webhook payload the way Ping++ does, for tests of
// webhook receivers: put the result in the X-Pingplusplus-Signature header.
func SignWebhook(key *rsa.PrivateKey, payload []byte) (string, error) {
	return Sign(key, payload)
}
