// Package webhookkey keeps the example programs in emulator mode from
// trusting a webhook key whose private half anyone can read: pingpptest's
// published one. The embedded and the standalone emulator sign with a key
// generated for the run, and a server checks the public key it is given.
package webhookkey

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// bits is the size of a generated key, Ping++'s own.
const bits = 2048

// Generate returns a new RSA private key as PKCS#1 PEM, for
// pingpptest.Config.WebhookPrivateKeyPEM.
func Generate() ([]byte, error) {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("webhookkey: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), nil
}

// ErrPublished is a key whose private half is published in pingpptest's
// source: anyone could sign webhooks with it.
var ErrPublished = errors.New("webhookkey: the key is pingpptest's published webhook key, whose private half anyone can read")

// Check refuses pingpptest's published webhook key.
func Check(k *rsa.PublicKey) error {
	published, err := pingxx.ParsePublicKey([]byte(pingpptest.WebhookPublicKeyPEM))
	if err != nil {
		return fmt.Errorf("webhookkey: %w", err)
	}
	if k.Equal(published) {
		return ErrPublished
	}
	return nil
}

// Read reads a webhook public key (PKIX PEM) from file and checks it.
func Read(file string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("webhookkey: %w", err)
	}
	k, err := pingxx.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("webhookkey: %s: %w", file, err)
	}
	if err := Check(k); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, file)
	}
	return k, nil
}
