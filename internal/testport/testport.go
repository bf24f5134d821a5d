// Package testport finds free loopback ports for the servers tests start:
// private databases, example server instances.
package testport

import (
	"net"
	"testing"
)

// Free returns a TCP port on 127.0.0.1 that was free a moment ago: the
// port of a listener it opened and closed. Another process may take it in
// between, so a server started on it may still fail to listen.
func Free(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
