package main

import (
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"net"

	"github.com/yianpay/payorder/examples/internal/serve"
	"github.com/yianpay/payorder/examples/internal/webhookkey"
)

// safety holds the flags of what emulator mode refuses by default, and the
// server's timeouts. In emulator mode (no PINGPP_SECRET_KEY) anyone who can
// reach the emulator pays any charge for free, so the server keeps it to
// itself: loopback only, no database of real orders, and a webhook key
// generated for the run (embedded emulator) or read from the file the
// standalone emulator wrote, never pingpptest's published one.
type safety struct {
	emulatorWithDatabase bool
	emulatorPublic       bool
	emulatorKeyFile      string
	timeouts             serve.Timeouts
}

// safetyFlags adds the flags of safety to fs.
func safetyFlags(fs *flag.FlagSet) *safety {
	s := &safety{}
	d := serve.DefaultTimeouts()
	fs.BoolVar(&s.emulatorWithDatabase, "emulator-with-database", false,
		"allow emulator mode (no PINGPP_SECRET_KEY) with DATABASE_URL: its orders are paid by the emulator, for free")
	fs.BoolVar(&s.emulatorPublic, "emulator-public", false,
		"allow emulator mode to listen beyond loopback")
	fs.StringVar(&s.emulatorKeyFile, "emulator-webhook-key", "",
		"with -emulator-url: the emulator's webhook public key, the file it wrote (its -webhook-public-key-out)")
	fs.DurationVar(&s.timeouts.ReadHeader, "read-header-timeout", d.ReadHeader, "bound on reading a request's headers")
	fs.DurationVar(&s.timeouts.Read, "read-timeout", d.Read, "bound on reading a whole request, body included")
	fs.DurationVar(&s.timeouts.Write, "write-timeout", d.Write, "bound on answering a request")
	fs.DurationVar(&s.timeouts.Idle, "idle-timeout", d.Idle, "bound on a keep-alive connection waiting for its next request")
	return s
}

// checkEmulatorMode refuses emulator mode on a database, or with the
// endpoint or the embedded emulator (at emulatorAddr, unless an external one
// at emulatorURL is used) beyond loopback, unless the flags allow it.
func (s *safety) checkEmulatorMode(getenv func(string) string, l net.Listener, emulatorAddr, emulatorURL string) error {
	if getenv("PINGPP_SECRET_KEY") != "" {
		return nil
	}
	if getenv("DATABASE_URL") != "" && !s.emulatorWithDatabase {
		return errors.New("emulator mode (no PINGPP_SECRET_KEY) with DATABASE_URL: the emulator pays any order for free; " +
			"set PINGPP_SECRET_KEY for Ping++, or pass -emulator-with-database")
	}
	if addr, ok := l.Addr().(*net.TCPAddr); (!ok || !addr.IP.IsLoopback()) && !s.emulatorPublic {
		return fmt.Errorf("emulator mode (no PINGPP_SECRET_KEY) listening on %s, beyond loopback: "+
			"anyone could pay for free; listen on 127.0.0.1, or pass -emulator-public", l.Addr())
	}
	if emulatorURL == "" && !loopbackAddr(emulatorAddr) && !s.emulatorPublic {
		return fmt.Errorf("embedded emulator on %s, beyond loopback: anyone could pay for free; "+
			"give -emulator-addr a 127.0.0.1 address, or pass -emulator-public", emulatorAddr)
	}
	return nil
}

// loopbackAddr reports whether a listen address (host:port) is on loopback
// only: localhost or a loopback IP, not an empty host (all interfaces).
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// externalEmulatorKey is the webhook key of the standalone emulator: the one
// it wrote to -emulator-webhook-key, never the published one.
func (s *safety) externalEmulatorKey() (*rsa.PublicKey, error) {
	if s.emulatorKeyFile == "" {
		return nil, errors.New("-emulator-url needs -emulator-webhook-key: the file the emulator wrote its webhook key to (its -webhook-public-key-out)")
	}
	return webhookkey.Read(s.emulatorKeyFile)
}
